/** queue.declare / bind / unbind / purge / delete (amqp0-9-1.xml class queue, RabbitMQ's rules). */
import type { Channel } from "../channel.js";
import { AmqpError, type MethodArgs, ReplyCode } from "../codec/index.js";
import { checkTopicRead } from "./exchange.js";

/** "" names the channel's last declared queue; without one it is an error (amqp0-9-1.xml). */
export function queueName(ch: Channel, name: string | undefined): string {
  if (name) return name;
  if (!ch.lastQueue) throw new AmqpError(ReplyCode.NotFound, "no previously declared queue");
  return ch.lastQueue;
}

export function handleQueueDeclare(ch: Channel, a: MethodArgs): void {
  const queues = ch.conn.vh.queues;
  const q = queues.declare({
    name: a.queue ?? "",
    passive: a.passive ?? false,
    durable: a.durable ?? false,
    exclusive: a.exclusive ?? false,
    autoDelete: a.autoDelete ?? false,
    arguments: a.arguments,
    owner: ch.conn.id,
  });
  ch.lastQueue = q.name;
  if (!a.noWait) {
    ch.send("queue.declare-ok", {
      queue: q.name,
      messageCount: q.messageCount,
      consumerCount: q.consumerCount,
    });
  }
}

export function handleQueueBind(ch: Channel, a: MethodArgs): void {
  const vh = ch.conn.vh;
  const queue = vh.queues.lookup(queueName(ch, a.queue), ch.conn.id);
  const source = a.exchange ?? "";
  const key = a.routingKey ?? "";
  checkTopicRead(ch, source, key);
  vh.exchanges.bind(source, "queue", queue.name, key, a.arguments ?? {});
  if (!a.noWait) ch.send("queue.bind-ok");
}

export function handleQueueUnbind(ch: Channel, a: MethodArgs): void {
  const vh = ch.conn.vh;
  const queue = vh.queues.lookup(queueName(ch, a.queue), ch.conn.id);
  vh.exchanges.unbind(a.exchange ?? "", "queue", queue.name, a.routingKey ?? "", a.arguments ?? {});
  ch.send("queue.unbind-ok");
}

export function handleQueuePurge(ch: Channel, a: MethodArgs): void {
  const count = ch.conn.vh.queues.purge(queueName(ch, a.queue), ch.conn.id);
  if (!a.noWait) ch.send("queue.purge-ok", { messageCount: count });
}

export function handleQueueDelete(ch: Channel, a: MethodArgs): void {
  const count = ch.conn.vh.queues.delete(
    queueName(ch, a.queue),
    a.ifUnused ?? false,
    a.ifEmpty ?? false,
    ch.conn.id,
  );
  if (!a.noWait) ch.send("queue.delete-ok", { messageCount: count });
}
