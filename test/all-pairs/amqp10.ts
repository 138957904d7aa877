/** AMQP 1.0 with rhea: addresses `/topic/a.b.c`, wildcard receivers `/topic/a.b.*` (docs/amqp10.md). */
import rhea from "rhea";
import { closeConn, connect, receiver, send, sender } from "../protocols/amqp10/client.js";
import {
  dotted,
  type GridClient,
  Inbox,
  type InMessage,
  type OutMessage,
  type Subscription,
} from "./types.js";

/** The body back to bytes: data sections as they are, an amqp-value string as UTF-8, binary as is. */
export function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  const section = body as { typecode?: number; content?: unknown };
  if (section && Buffer.isBuffer(section.content)) return section.content;
  if (section && Array.isArray(section.content)) return Buffer.concat(section.content as Buffer[]);
  return Buffer.from(JSON.stringify(body));
}

export async function amqp10Client(port: number): Promise<GridClient> {
  const conn = await connect(port);
  const senders = new Map<string, rhea.Sender>();
  return {
    name: "AMQP 1.0",
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
      const r = await receiver(conn, `/topic/${dotted(filter)}`);
      r.receiver.on("message", (ctx) => {
        const msg = ctx.message!;
        const props: Record<string, string> = {};
        for (const [k, v] of Object.entries(msg.application_properties ?? {})) props[k] = String(v);
        const key = (msg.message_annotations as Record<string, unknown> | undefined)?.["x-routing-key"];
        const corr = msg.correlation_id;
        const replyTo = msg.reply_to;
        inbox.push({
          topic: typeof key === "string" ? key.replace(/\./g, "/") : filter,
          payload: bodyBytes(msg.body),
          contentType: msg.content_type,
          props,
          correlationId:
            corr === undefined ? undefined : Buffer.isBuffer(corr) ? corr.toString("utf8") : String(corr),
          replyTo: replyTo?.startsWith("/topic/") ? replyTo.slice(7).replace(/\./g, "/") : replyTo,
          messageId: msg.message_id === undefined ? undefined : String(msg.message_id),
          ttlMs: msg.ttl,
          timestamp: msg.creation_time === undefined ? undefined : new Date(msg.creation_time).getTime(),
          persistent: msg.durable === true,
        });
      });
      return {
        next: (ms) => inbox.next(ms),
        async close() {
          r.receiver.close();
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      const address = `/topic/${dotted(topic)}`;
      let s = senders.get(address);
      if (!s) {
        s = await sender(conn, address);
        senders.set(address, s);
      }
      const out = await send(s, {
        body: rhea.message.data_section(m.payload),
        content_type: m.contentType,
        application_properties: m.props,
        correlation_id: m.correlationId,
        reply_to: m.replyTo === undefined ? undefined : `/topic/${dotted(m.replyTo)}`,
        message_id: m.messageId,
        ttl: m.ttlMs,
        creation_time: new Date(),
        durable: m.persistent !== false,
      });
      if (out.outcome !== "accepted") throw new Error(`transfer ${out.outcome}`);
    },
    async close() {
      for (const s of senders.values()) s.close();
      await closeConn(conn);
    },
  };
}
