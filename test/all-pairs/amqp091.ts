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
          inbox.push({
            topic: msg.fields.routingKey.replace(/\./g, "/"),
            payload: msg.content,
            contentType: msg.properties.contentType as string | undefined,
            props,
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
      ch.publish("amq.topic", dotted(topic), m.payload, { contentType: m.contentType, headers: m.props });
      await ch.waitForConfirms();
    },
    async close() {
      await conn.close().catch(() => {});
    },
  };
}
