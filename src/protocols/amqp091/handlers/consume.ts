/**
 * basic.qos / consume / cancel (amqp0-9-1.xml class basic), with RabbitMQ's semantics: prefetch per
 * consumer (global = false) or per channel (global = true), server-generated consumer tags,
 * consumer cancel notification when the queue is deleted, single active consumer, and direct
 * reply-to consumers (amq.rabbitmq.reply-to).
 */
import { randomBytes } from "node:crypto";
import type { Delivery } from "../../../core/queues/index.js";
import type { Channel, ChannelConsumer } from "../channel.js";
import { AmqpError, type MethodArgs, ReplyCode } from "../codec/index.js";
import { amqpErrorOf } from "../queue-registry.js";
import { REPLY_TO_QUEUE, startReplyConsumer, stopReplyConsumer } from "./direct-reply-to.js";
import { queueName } from "./queue.js";

export function handleQos(ch: Channel, a: MethodArgs): void {
  if ((a.prefetchSize ?? 0) !== 0) {
    throw new AmqpError(ReplyCode.NotImplemented, "prefetch_size!=0 is not supported", 0, 0, true);
  }
  if (a.global) {
    ch.channelPrefetch = a.prefetchCount ?? 0;
    ch.updateFlow();
  } else {
    ch.consumerPrefetch = a.prefetchCount ?? 0;
  }
  ch.send("basic.qos-ok");
}

export function handleConsume(ch: Channel, a: MethodArgs): void {
  const tag = a.consumerTag || `amq.ctag-${randomBytes(16).toString("base64url")}`;
  if (ch.consumers.has(tag)) {
    throw new AmqpError(ReplyCode.NotAllowed, `attempt to reuse consumer tag '${tag}'`, 0, 0, true);
  }
  const noAck = a.noAck ?? false;
  if (a.queue === REPLY_TO_QUEUE) {
    consumeReplyTo(ch, tag, noAck);
    if (!a.noWait) ch.send("basic.consume-ok", { consumerTag: tag });
    return;
  }
  const vh = ch.conn.vh;
  const queue = vh.queues.lookup(queueName(ch, a.queue), ch.conn.id);
  const name = queue.name; // the core's name (vhost-qualified)
  const cc: ChannelConsumer = { tag, queue: name, noAck, consumer: undefined };
  const exclusive = a.exclusive ?? false;
  /** Adds the core consumer paused, answers consume-ok, then lets it flow (deliveries follow the reply). */
  const attach = (sendOk: boolean): void => {
    try {
      cc.consumer = queue.addConsumer({
        tag,
        prefetch: noAck ? 0 : ch.consumerPrefetch,
        noAck,
        exclusive,
        owner: ch.conn.id,
        scope: ch.scope,
        paused: true,
        onMessage: (d) => deliver(ch, d, tag),
        onCancel: () => cancelledByServer(ch, cc),
      });
    } catch (err) {
      throw amqpErrorOf(err);
    }
    ch.consumers.set(tag, cc);
    if (sendOk) ch.send("basic.consume-ok", { consumerTag: tag });
    cc.consumer.setFlow(ch.isFlowing);
  };
  // Single active consumer: later consumers wait for their turn (consume-ok at once, RabbitMQ).
  if (vh.queues.isSingleActive(name) && queue.consumerCount > 0) {
    vh.queues.wait(name, { owner: ch, tag, activate: () => ch.state === "open" && attach(false) });
    if (!a.noWait) ch.send("basic.consume-ok", { consumerTag: tag });
  } else {
    attach(!a.noWait);
  }
  ch.consumers.set(tag, cc);
  vh.queues.touch(queue);
}

function deliver(ch: Channel, d: Delivery, tag: string): void {
  ch.sendDelivery(d, tag);
  if (ch.channelPrefetch > 0) ch.updateFlow();
}

/** The queue was deleted: basic.cancel from the server (RabbitMQ's consumer_cancel_notify). */
function cancelledByServer(ch: Channel, cc: ChannelConsumer): void {
  if (ch.consumers.get(cc.tag) !== cc) return;
  ch.consumers.delete(cc.tag);
  if (ch.state === "open" && ch.conn.capabilities.consumer_cancel_notify === true) {
    ch.send("basic.cancel", { consumerTag: cc.tag, noWait: true });
  }
}

export function handleCancel(ch: Channel, a: MethodArgs): void {
  const tag = a.consumerTag ?? "";
  const cc = ch.consumers.get(tag);
  if (cc) {
    ch.consumers.delete(tag);
    const vh = ch.conn.vh;
    if (cc.queue === REPLY_TO_QUEUE) {
      stopReplyConsumer(ch);
    } else if (!cc.consumer) {
      vh.queues.unwait(cc.queue, ch, tag);
    } else {
      const queue = cc.consumer.queue;
      // Unacked deliveries stay ackable on the channel (RabbitMQ); they requeue when it closes.
      cc.consumer.cancel({ requeueUnacked: false });
      vh.queues.promote(queue);
      vh.queues.checkGone(queue);
    }
  }
  if (!a.noWait) ch.send("basic.cancel-ok", { consumerTag: tag });
}

function consumeReplyTo(ch: Channel, tag: string, noAck: boolean): void {
  if (!noAck) {
    throw new AmqpError(
      ReplyCode.PreconditionFailed,
      "reply consumer cannot acknowledge (consume amq.rabbitmq.reply-to with no-ack)",
    );
  }
  if (ch.replyToken)
    throw new AmqpError(ReplyCode.PreconditionFailed, "reply consumer already set on this channel");
  startReplyConsumer(ch, tag);
  ch.consumers.set(tag, { tag, queue: REPLY_TO_QUEUE, noAck: true, consumer: undefined });
}
