/**
 * XMPP PubSub (XEP-0060) with @xmpp/client on `pubsub.localhost`: node `a/b/c` is topic `a/b/c`
 * (docs/xmpp.md). Publishing sends `<json>` for JSON, `<payload>` for text and `<payload
 * encoding='base64'>` for other bytes; a subscriber decodes the same elements back to bytes. Node
 * names cannot hold wildcards, so XMPP subscribes to exact nodes.
 */
import type { TestBroker } from "../helpers/broker.js";
import { connectClient, type XmlElement, xml } from "../protocols/xmpp/helpers.js";
import { type GridClient, Inbox, type InMessage, type OutMessage, type Subscription } from "./types.js";
import { isUtf8 } from "./wamp.js";

const PS = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";
const PAYLOAD = "urn:switchboard:payload:0";
const JSON_NS = "urn:xmpp:json:0";

function pubsubIq(type: string, ...children: unknown[]) {
  return xml("iq", { type, to: "pubsub.localhost" }, xml("pubsub", PS, ...children));
}

/** The item's payload element back to bytes and a content type. */
function itemBytes(item: XmlElement): { payload: Buffer; contentType?: string } {
  const json = item.getChild("json", JSON_NS);
  if (json) return { payload: Buffer.from(json.text(), "utf8"), contentType: "application/json" };
  const p = item.getChild("payload", PAYLOAD);
  if (p) {
    const payload =
      p.attrs.encoding === "base64" ? Buffer.from(p.text(), "base64") : Buffer.from(p.text(), "utf8");
    return { payload, contentType: p.attrs["content-type"] };
  }
  const other = item.children.find((c: unknown) => typeof c === "object");
  return { payload: Buffer.from(String(other ?? ""), "utf8"), contentType: "application/xml" };
}

let users = 0;

export async function xmppClient(b: TestBroker): Promise<GridClient> {
  const user = `grid${++users}`;
  const x = await connectClient(b, { username: user });
  const subs = new Set<{ node: string; inbox: Inbox<InMessage> }>();
  x.xmpp.on("stanza", (s: XmlElement) => {
    const items = s.is("message") ? s.getChild("event", EVENT)?.getChild("items") : undefined;
    if (!items) return;
    for (const sub of subs) {
      if (items.attrs.node !== sub.node) continue;
      for (const item of items.getChildren("item"))
        sub.inbox.push({ topic: sub.node, ...itemBytes(item), props: {}, messageId: item.attrs.id });
    }
  });
  return {
    name: "XMPP",
    wildcards: false,
    contentType: true,
    props: false,
    correlationId: false,
    replyTo: false,
    messageId: "xmpp-item-id",
    expiry: false,
    timestamp: false,
    // An item is a retained QoS 1 message (docs/xmpp.md); a notification does not say.
    persistent: "publish",
    publishesPersistent: true,
    async subscribe(node: string): Promise<Subscription> {
      const s = { node, inbox: new Inbox<InMessage>() };
      subs.add(s);
      await x.xmpp.iqCaller.request(
        pubsubIq("set", xml("subscribe", { node, jid: `${user}@localhost` })),
        5000,
      );
      return {
        next: (ms) => s.inbox.next(ms),
        async close() {
          subs.delete(s);
          await x.xmpp.iqCaller.request(
            pubsubIq("set", xml("unsubscribe", { node, jid: `${user}@localhost` })),
            5000,
          );
        },
      };
    },
    async publish(node: string, m: OutMessage): Promise<void> {
      let el: unknown;
      if (m.contentType === "application/json") el = xml("json", JSON_NS, m.payload.toString("utf8"));
      else if (isUtf8(m.payload))
        el = xml(
          "payload",
          { xmlns: PAYLOAD, "content-type": m.contentType ?? "text/plain" },
          m.payload.toString(),
        );
      else {
        const attrs: Record<string, string> = { xmlns: PAYLOAD, encoding: "base64" };
        if (m.contentType) attrs["content-type"] = m.contentType;
        el = xml("payload", attrs, m.payload.toString("base64"));
      }
      await x.xmpp.iqCaller.request(
        pubsubIq("set", xml("publish", { node }, xml("item", m.messageId ? { id: m.messageId } : {}, el))),
        10_000,
      );
    },
    close: () => x.stop(),
  };
}
