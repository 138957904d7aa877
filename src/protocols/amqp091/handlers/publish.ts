/**
 * basic.publish with its content (amqp0-9-1.xml basic.publish): checks, the core Message, routing
 * through the exchanges (amq.topic = the shared topic space), mandatory returns, publisher confirms
 * and transactions.
 */
import { dottedToTopic } from "../../../core/dotted-names.js";
import type { Channel } from "../channel.js";
import { AmqpError, type BasicProperties, type MethodArgs, ReplyCode } from "../codec/index.js";
import type { Exchange } from "../exchanges/exchange.js";
import type { RouteResult } from "../exchanges/registry.js";
import { type AmqpMessage, coreProperties, parseExpiration } from "../message-mapping.js";
import { deliverReply, REPLY_TO_PREFIX, REPLY_TO_QUEUE } from "./direct-reply-to.js";
import { handleRpcCall, RPC_EXCHANGE } from "./rpc.js";

export function handlePublish(ch: Channel, a: MethodArgs, props: BasicProperties, body: Buffer): void {
  const conn = ch.conn;
  if (!conn.hasPublished) {
    conn.hasPublished = true;
    if (conn.blocked) conn.stream.pause();
  }
  const exchangeName = a.exchange ?? "";
  const routingKey = a.routingKey ?? "";
  const principal = conn.principal;
  if (props.userId !== undefined && props.userId !== (principal?.username ?? "")) {
    throw new AmqpError(
      ReplyCode.PreconditionFailed,
      `user_id property set to '${props.userId}' but authenticated user was '${principal?.username ?? ""}'`,
    );
  }
  if (props.expiration !== undefined && parseExpiration(props.expiration) === undefined) {
    throw new AmqpError(ReplyCode.PreconditionFailed, `invalid expiration '${props.expiration}'`);
  }
  if (exchangeName === RPC_EXCHANGE) {
    // A call, not a message (docs/rpc.md): answered through reply_to.
    if (ch.txMode) ch.txActions.push(() => handleRpcCall(ch, routingKey, props, body));
    else handleRpcCall(ch, routingKey, props, body);
    return;
  }
  let ex: Exchange | undefined;
  if (exchangeName !== "") {
    ex = conn.vh.exchanges.require(exchangeName);
    if (ex.internal)
      throw new AmqpError(ReplyCode.AccessRefused, `cannot publish to internal exchange '${exchangeName}'`);
  }
  if (props.replyTo === REPLY_TO_QUEUE) {
    if (!ch.replyToken)
      throw new AmqpError(ReplyCode.PreconditionFailed, "fast reply consumer does not exist");
    props = { ...props, replyTo: REPLY_TO_PREFIX + ch.replyToken };
  }
  const now = Date.now();
  const properties = coreProperties(props, now);
  const message: AmqpMessage = {
    topic: dottedToTopic(routingKey),
    payload: body,
    qos: props.deliveryMode === 2 ? 1 : 0,
    retain: false,
    properties,
    publisherId: conn.id,
    publisherUser: principal?.username,
    timestamp: now,
    amqp: { exchange: exchangeName, routingKey, props, source: properties },
  };
  if (
    conn.vh.exchanges.isShared(exchangeName) &&
    principal &&
    !conn.router.auth.authorize(principal, "publish", message.topic)
  ) {
    throw new AmqpError(
      ReplyCode.AccessRefused,
      `access to topic '${message.topic}' refused for user '${principal.username ?? ""}'`,
    );
  }
  conn.router.stats.messagesReceived++;
  const mandatory = a.mandatory ?? false;
  if (ch.txMode) {
    ch.txActions.push(() => route(ch, ex, routingKey, message, mandatory));
    return;
  }
  route(ch, ex, routingKey, message, mandatory);
}

export function route(
  ch: Channel,
  ex: Exchange | undefined,
  routingKey: string,
  message: AmqpMessage,
  mandatory: boolean,
): void {
  const adapter = ch.conn.adapter;
  const vh = ch.conn.vh;
  let result: RouteResult;
  if (ex) {
    result = vh.exchanges.route(ex, routingKey, message.amqp?.props.headers, message);
  } else {
    // The default exchange: every queue is bound to it by its name (amqp0-9-1.xml "default exchange").
    result = { routed: 0, refused: false, stored: false };
    if (routingKey.startsWith(REPLY_TO_PREFIX)) deliverReply(adapter.replyTo, routingKey, message, result);
    // "$" queues are the broker's own (queue-registry.ts): not reachable through the default exchange.
    else if (!routingKey.startsWith("$"))
      vh.exchanges.publishToQueue(vh.queues.internal(routingKey), message, result);
  }
  if (result.routed === 0 && mandatory) {
    ch.sendReturn(ReplyCode.NoRoute, "NO_ROUTE", ex?.name ?? "", routingKey, message);
  }
  if (ch.confirmMode) ch.confirms.next(result.refused ? "nack" : result.stored ? "waiting" : "ack");
}
