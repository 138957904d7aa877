/** STOMP over TCP with @stomp/stompjs: `/topic/a.b.c`, wildcards `*` and `#` (docs/stomp.md). */
import type { IMessage } from "@stomp/stompjs";
import { stompjs } from "../helpers/stomp-clients.js";
import {
  dotted,
  type GridClient,
  Inbox,
  type InMessage,
  type OutMessage,
  type Subscription,
  withTimeout,
} from "./types.js";

/** Frame headers that are the protocol's own, not the message's user headers. */
const OWN = new Set([
  "destination",
  "message-id",
  "subscription",
  "content-length",
  "content-type",
  "persistent",
  "expires",
  "correlation-id",
  "reply-to",
  "priority",
  "ack",
  "redelivered",
  "receipt",
]);

export async function stompClient(port: number): Promise<GridClient> {
  const client = await stompjs({ tcp: port });
  let receipts = 0;
  function receipt(): { id: string; done: Promise<void> } {
    const id = `grid-${++receipts}`;
    const done = new Promise<void>((resolve) => client.watchForReceipt(id, () => resolve()));
    return { id, done: withTimeout(done, 5000, `STOMP receipt ${id}`) };
  }
  return {
    name: "STOMP",
    wildcards: true,
    contentType: true,
    props: true,
    correlationId: true,
    replyTo: true,
    expiry: true,
    timestamp: false,
    persistent: true,
    async subscribe(filter: string): Promise<Subscription> {
      const inbox = new Inbox<InMessage>();
      const r = receipt();
      const sub = client.subscribe(
        `/topic/${dotted(filter)}`,
        (m: IMessage) => {
          const props: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers)) if (!OWN.has(k)) props[k] = v;
          const h = m.headers;
          const replyTo = h["reply-to"];
          inbox.push({
            topic: (h.destination ?? "").replace(/^\/topic\//, "").replace(/\./g, "/"),
            payload: Buffer.from(m.binaryBody),
            contentType: h["content-type"],
            props,
            correlationId: h["correlation-id"],
            replyTo: replyTo?.startsWith("/topic/") ? replyTo.slice(7).replace(/\./g, "/") : replyTo,
            ttlMs: h.expires === undefined ? undefined : Number(h.expires) - Date.now(),
            persistent: h.persistent === "true",
          });
        },
        { receipt: r.id },
      );
      await r.done;
      return {
        next: (ms) => inbox.next(ms),
        async close() {
          sub.unsubscribe();
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      const r = receipt();
      const headers: Record<string, string> = { ...m.props, receipt: r.id };
      if (m.persistent !== false) headers.persistent = "true";
      if (m.contentType) headers["content-type"] = m.contentType;
      if (m.correlationId !== undefined) headers["correlation-id"] = m.correlationId;
      if (m.replyTo !== undefined) headers["reply-to"] = `/topic/${dotted(m.replyTo)}`;
      if (m.ttlMs !== undefined) headers.expires = String(Date.now() + m.ttlMs);
      client.publish({ destination: `/topic/${dotted(topic)}`, binaryBody: m.payload, headers });
      await r.done;
    },
    async close() {
      await client.deactivate();
    },
  };
}
