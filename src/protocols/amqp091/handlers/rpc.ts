/**
 * Routed RPC from AMQP 0-9-1 (docs/rpc.md "AMQP 0-9-1"): basic.publish to the exchange `amq.rpc`
 * with the procedure as routing key (`com.example.add`) is a call through the core Dealer, so a
 * WAMP or MQTT 5 callee answers. The body is the call's arguments by the core mapping (JSON
 * `{"args", "kwargs"}` or one JSON value without a content type, text, bytes). The answer goes where
 * `reply_to` says, as RabbitMQ's RPC pattern expects: a queue name (through the default exchange), or
 * direct reply-to (`amq.rabbitmq.reply-to`); it carries the caller's `correlation_id`, and an error
 * carries the header `error` = its URI (no_such_procedure, timeout, canceled, not_authorized...).
 * Without `reply_to` the call is made and its answer dropped. Publisher confirms ack the call at once.
 */
import type { Message } from "../../../core/message.js";
import {
  INVALID_URI,
  isValidProcedure,
  NOT_AUTHORIZED,
  type ReplyRoute,
  RpcBridge,
} from "../../../core/rpc-bridge.js";
import { Session } from "../../../core/session.js";
import type { Channel } from "../channel.js";
import type { BasicProperties } from "../codec/index.js";
import type { RouteResult } from "../exchanges/registry.js";
import { type AmqpMessage, coreProperties } from "../message-mapping.js";
import { deliverReply, REPLY_TO_PREFIX, REPLY_TO_QUEUE } from "./direct-reply-to.js";

/** The exchange name calls are published to (not a real exchange: it never routes messages). */
export const RPC_EXCHANGE = "amq.rpc";

export function handleRpcCall(ch: Channel, procedure: string, props: BasicProperties, body: Buffer): void {
  const conn = ch.conn;
  conn.rpc ??= new RpcBridge(conn.router, new Session(`${conn.id}/rpc`, "amqp091"), undefined);
  const bridge = conn.rpc;
  const replyTo =
    props.replyTo === REPLY_TO_QUEUE
      ? ch.replyToken === undefined
        ? undefined
        : REPLY_TO_PREFIX + ch.replyToken
      : props.replyTo;
  const route: ReplyRoute | undefined =
    replyTo === undefined || replyTo === ""
      ? undefined
      : {
          topic: "",
          qos: 0,
          errorForm: "property",
          ...(props.correlationId === undefined ? {} : { correlationData: Buffer.from(props.correlationId) }),
          deliver: (m) => deliverAnswer(ch, replyTo, m),
        };
  const principal = conn.principal;
  if (!isValidProcedure(procedure))
    bridge.refuse(route, INVALID_URI, { args: [`invalid procedure '${procedure}'`] });
  else if (principal && !conn.router.auth.authorize(principal, "call", procedure))
    bridge.refuse(route, NOT_AUTHORIZED);
  else bridge.call(procedure, body, coreProperties(props, Date.now()), route);
  if (ch.confirmMode) ch.confirms.next("ack");
}

/** The answer to the requester: its direct reply-to consumer, or the reply queue (default exchange). */
function deliverAnswer(ch: Channel, replyTo: string, m: Message): void {
  const result: RouteResult = { routed: 0, refused: false, stored: false };
  const conn = ch.conn;
  if (replyTo.startsWith(REPLY_TO_PREFIX))
    deliverReply(conn.adapter.replyTo, replyTo, m as AmqpMessage, result);
  else if (!replyTo.startsWith("$"))
    conn.vh.exchanges.publishToQueue(conn.vh.queues.internal(replyTo), m, result);
}
