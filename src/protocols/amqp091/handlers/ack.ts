/** basic.ack / reject / nack / recover / get (amqp0-9-1.xml class basic; RabbitMQ's nack extension). */
import type { Channel } from "../channel.js";
import { AmqpError, type MethodArgs, ReplyCode } from "../codec/index.js";
import { queueName } from "./queue.js";

/** An unknown delivery tag is 406 PRECONDITION_FAILED on the channel (RabbitMQ). */
function settled(ch: Channel, count: number, tag: number, multiple: boolean): void {
  if (count === 0 && !(multiple && tag === 0)) {
    throw new AmqpError(ReplyCode.PreconditionFailed, `unknown delivery tag ${tag}`);
  }
  if (ch.channelPrefetch > 0) ch.updateFlow();
}

/** In a transaction, acknowledgements take effect at tx.commit. */
function maybeTx(ch: Channel, fn: () => void): void {
  if (ch.txMode) ch.txActions.push(fn);
  else fn();
}

export function handleAck(ch: Channel, a: MethodArgs): void {
  const tag = a.deliveryTag ?? 0;
  const multiple = a.multiple ?? false;
  maybeTx(ch, () => settled(ch, ch.scope.ack(tag, multiple), tag, multiple));
}

export function handleReject(ch: Channel, a: MethodArgs): void {
  const tag = a.deliveryTag ?? 0;
  maybeTx(ch, () => settled(ch, ch.scope.reject(tag, a.requeue ?? true), tag, false));
}

export function handleNack(ch: Channel, a: MethodArgs): void {
  const tag = a.deliveryTag ?? 0;
  const multiple = a.multiple ?? false;
  maybeTx(ch, () => settled(ch, ch.scope.nack(tag, { multiple, requeue: a.requeue ?? true }), tag, multiple));
}

export function handleRecover(ch: Channel, a: MethodArgs, sync: boolean): void {
  if (a.requeue === false) {
    throw new AmqpError(ReplyCode.NotImplemented, "requeue=false is not supported", 0, 0, true);
  }
  ch.scope.recover();
  if (ch.channelPrefetch > 0) ch.updateFlow();
  if (sync) ch.send("basic.recover-ok");
}

export function handleGet(ch: Channel, a: MethodArgs): void {
  const vh = ch.conn.vh;
  const queue = vh.queues.lookup(queueName(ch, a.queue), ch.conn.id);
  const d = queue.get(ch.scope, { noAck: a.noAck ?? false, owner: ch.conn.id });
  vh.queues.touch(queue);
  if (!d) {
    ch.send("basic.get-empty");
    return;
  }
  ch.sendDelivery(d, undefined, queue.messageCount);
}
