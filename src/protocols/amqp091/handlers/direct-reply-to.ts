/**
 * Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to): a requester consumes the pseudo-queue
 * `amq.rabbitmq.reply-to` with no-ack and publishes requests with that reply-to; the broker rewrites
 * it to `amq.rabbitmq.reply-to.<token>`, and a reply published to the default exchange with that
 * routing key goes straight to the requester's channel, with no queue in between.
 */
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
