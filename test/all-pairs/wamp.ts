/**
 * WAMP with autobahn (WebSocket, MessagePack, so binary arguments stay binary). Events carry values,
 * not bytes (docs/wamp.md "Payload mapping"): a publisher sends JSON as the decoded value, text as a
 * string and other bytes as a binary argument; a subscriber turns a string back into its UTF-8 bytes,
 * binary into the bytes, and any other value into its JSON (content type application/json). Wildcard
 * subscriptions are WAMP prefix subscriptions (`grid.a.b.` for `grid/a/b/+`).
 */
import type { TestBroker } from "../helpers/broker.js";
import { type AutobahnClient, joinAutobahn, VARIANTS } from "../helpers/wamp.js";
import { type GridClient, Inbox, type InMessage, type OutMessage, type Subscription } from "./types.js";

export function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString("utf8"), "utf8").equals(b);
}

/** The one argument a WAMP client sends for these bytes. */
export function wampArg(m: OutMessage): unknown {
  if (m.contentType === "application/json") return JSON.parse(m.payload.toString("utf8"));
  if (isUtf8(m.payload)) return m.payload.toString("utf8");
  return m.payload;
}

/** One event argument back to bytes. */
export function wampBytes(arg: unknown): { payload: Buffer; contentType?: string } {
  if (typeof arg === "string") return { payload: Buffer.from(arg, "utf8") };
  if (arg instanceof Uint8Array) return { payload: Buffer.from(arg) };
  return { payload: Buffer.from(JSON.stringify(arg), "utf8"), contentType: "application/json" };
}

export async function wampClient(b: TestBroker): Promise<GridClient & { wamp: AutobahnClient }> {
  const w = await joinAutobahn(b, VARIANTS[1]!);
  return {
    wamp: w,
    name: "WAMP",
    wildcards: true,
    contentType: true,
    props: false,
    correlationId: false,
    replyTo: false,
    expiry: false,
    timestamp: false,
    // Events are transient (docs/metadata.md): what a WAMP client publishes is QoS 0.
    persistent: "publish",
    publishesPersistent: false,
    async subscribe(filter: string): Promise<Subscription> {
      const inbox = new Inbox<InMessage>();
      const wild = filter.endsWith("/+");
      const uri = wild ? `${filter.slice(0, -1).replace(/\//g, ".")}` : filter.replace(/\//g, ".");
      const sub = await w.session.subscribe(
        uri,
        (args: unknown[] = [], _kw: unknown, details: { topic?: string }) => {
          const topic = (details?.topic ?? uri).replace(/\./g, "/");
          inbox.push({ topic, ...wampBytes(args[0]), props: {} });
        },
        wild ? { match: "prefix" } : {},
      );
      return {
        next: (ms) => inbox.next(ms),
        async close() {
          await w.session.unsubscribe(sub);
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      await w.session.publish(topic.replace(/\//g, "."), [wampArg(m)], undefined, {
        acknowledge: true,
        exclude_me: false,
      });
    },
    close: () => w.close(),
  };
}
