/**
 * Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to): a requester consumes the pseudo-queue
 * `amq.rabbitmq.reply-to` with no-ack and publishes requests with that reply-to; the broker rewrites
 * it to `amq.rabbitmq.reply-to.<token>`, and a reply published to the default exchange with that
 * routing key goes straight to the requester's channel, with no queue in between.
 *
 * Responders of other protocols see the reply-to as their response topic
 * (`amq/rabbitmq/reply-to/<token>`): the requester's channel is subscribed to it in the topic space,
 * so an MQTT 5 responder's reply arrives the same way.
 */
import { randomBytes } from "node:crypto";
import { dottedToTopic } from "../../../core/dotted-names.js";
import type { Message } from "../../../core/message.js";
import { type ConnectionInfo, Session } from "../../../core/session.js";
import type { Channel } from "../channel.js";
import type { RouteResult } from "../exchanges/registry.js";
import type { AmqpMessage } from "../message-mapping.js";

export const REPLY_TO_QUEUE = "amq.rabbitmq.reply-to";
export const REPLY_TO_PREFIX = `${REPLY_TO_QUEUE}.`;

/** Delivers a reply to the channel holding the token; unroutable when it is gone (RabbitMQ drops it). */
export function deliverReply(
  replyTo: Map<string, Channel>,
  routingKey: string,
  message: AmqpMessage,
  result: RouteResult,
): void {
  const ch = replyTo.get(routingKey.slice(REPLY_TO_PREFIX.length));
  if (ch?.state !== "open" || ch.replyConsumerTag === undefined) return;
  result.routed++;
  deliverToRequester(ch, message);
}

function deliverToRequester(ch: Channel, message: Message): void {
  if (ch.state !== "open" || ch.replyConsumerTag === undefined) return;
  const tag = ch.scope.allocateTag();
  ch.sendDelivery(
    {
      tag,
      message,
      redelivered: false,
      deliveryCount: 1,
      queue: REPLY_TO_QUEUE,
      consumerTag: ch.replyConsumerTag,
    },
    ch.replyConsumerTag,
  );
}

const REPLY_INFO: ConnectionInfo = {
  protocol: "amqp091",
  protocolVersion: "0-9-1",
  remoteAddress: "",
  remotePort: 0,
  transport: "internal",
  connectedAt: 0,
};

/** basic.consume of amq.rabbitmq.reply-to: the channel's token, in the adapter and the topic space. */
export function startReplyConsumer(ch: Channel, tag: string): void {
  const token = randomBytes(18).toString("base64url");
  ch.replyToken = token;
  ch.replyConsumerTag = tag;
  const adapter = ch.conn.adapter;
  adapter.replyTo.set(token, ch);
  const session = new Session(`$amqp091/reply-to/${token}`, "amqp091");
  session.connection = {
    info: REPLY_INFO,
    deliver: (message) => deliverToRequester(ch, message),
    drain: () => {},
    close: () => {},
  };
  adapter.router.subscribe(session, replyTopic(token), {
    qos: 0,
    noLocal: false,
    retainAsPublished: false,
    retainHandling: 2,
  });
  ch.replySession = session;
}

/** The reply consumer is cancelled or its channel closed. */
export function stopReplyConsumer(ch: Channel): void {
  const token = ch.replyToken;
  if (token === undefined) return;
  const adapter = ch.conn.adapter;
  adapter.replyTo.delete(token);
  if (ch.replySession) adapter.router.unsubscribe(ch.replySession, replyTopic(token));
  ch.replySession = undefined;
  ch.replyToken = undefined;
  ch.replyConsumerTag = undefined;
}

function replyTopic(token: string): string {
  return dottedToTopic(REPLY_TO_PREFIX + token);
}
