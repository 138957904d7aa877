/** AMQP 0-9-1 with amqplib: publish to amq.topic (routing key a.b.c); a queue bound with a wildcard key. */
import amqp from "amqplib";
import {
  dotted,
  type GridClient,
  Inbox,
  type InMessage,
  type OutMessage,
  type Subscription,
} from "./types.js";

export async function amqp091Client(url: string): Promise<GridClient> {
  const conn = await amqp.connect(url);
  conn.on("error", () => {});
  const ch = await conn.createConfirmChannel();
  ch.on("error", () => {});
  return {
    name: "AMQP 0-9-1",
    wildcards: true,
    contentType: true,
    props: true,
    correlationId: true,
    replyTo: true,
    messageId: "message-id",
    expiry: true,
    timestamp: true,
    persistent: true,
    async subscribe(filter: string): Promise<Subscription> {
      const inbox = new Inbox<InMessage>();
      const q = await ch.assertQueue("", { exclusive: true, autoDelete: true });
      await ch.bindQueue(q.queue, "amq.topic", dotted(filter));
      const { consumerTag } = await ch.consume(
        q.queue,
        (msg) => {
          if (!msg) return;
          const props: Record<string, string> = {};
          for (const [k, v] of Object.entries(msg.properties.headers ?? {})) props[k] = String(v);
          const p = msg.properties;
          inbox.push({
            topic: msg.fields.routingKey.replace(/\./g, "/"),
            payload: msg.content,
            contentType: p.contentType as string | undefined,
            props,
            correlationId: p.correlationId as string | undefined,
            replyTo: typeof p.replyTo === "string" ? p.replyTo.replace(/\./g, "/") : undefined,
            messageId: p.messageId as string | undefined,
            ttlMs: p.expiration === undefined ? undefined : Number(p.expiration),
            timestamp: typeof p.timestamp === "number" ? p.timestamp * 1000 : undefined,
            persistent: p.deliveryMode === 2,
          });
        },
        { noAck: true },
      );
      return {
        next: (ms) => inbox.next(ms),
        async close() {
          await ch.cancel(consumerTag);
          await ch.deleteQueue(q.queue);
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      ch.publish("amq.topic", dotted(topic), m.payload, {
        contentType: m.contentType,
        headers: m.props,
        correlationId: m.correlationId,
        replyTo: m.replyTo === undefined ? undefined : dotted(m.replyTo),
        messageId: m.messageId,
        expiration: m.ttlMs === undefined ? undefined : String(m.ttlMs),
        timestamp: Math.floor(Date.now() / 1000),
        deliveryMode: m.persistent === false ? 1 : 2,
      });
      await ch.waitForConfirms();
    },
    async close() {
      await conn.close().catch(() => {});
    },
  };
}
