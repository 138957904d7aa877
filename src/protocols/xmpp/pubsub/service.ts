/**
 * XEP-0060 PubSub at pubsub.<domain> on the shared topic space: node `a/b/c` IS topic `a/b/c`.
 * Publishing is a router publish (retained: the node's last item is the retained message, so
 * "retrieve items" and MQTT retain agree); subscribing is a router subscription of the user's
 * account session, so MQTT, STOMP, WAMP, AMQP and CoAP publishers reach XMPP subscribers.
 * Nodes are leaf nodes holding one item (the last); every valid topic is a node that exists.
 */

import { randomBytes } from "node:crypto";
import { createMessage, type Message } from "../../../core/message.js";
import { compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import type { Account } from "../account.js";
import type { XmppHub } from "../hub.js";
import { bareOf, parseJid } from "../jid.js";
import { NS } from "../namespaces.js";
import type { BoundResource } from "../resource.js";
import { errorReply, iqResult, type StanzaErrorCondition } from "../stanza-error.js";
import { type Element, el } from "../xml/element.js";
import { escapeAttr, rawXml } from "../xml/serialize.js";
import { configureForm, type NodeConfig, nodeConfigFrom } from "./node-config.js";
import { ITEM_ID_PROPERTY, itemPayloadXml, payloadFromItem } from "./payload.js";

const ENCODED_KEY = "xmpp-event";
const MAX_LISTED_NODES = 1000;

export const PUBSUB_FEATURES = [
  "create-nodes",
  "instant-nodes",
  "delete-nodes",
  "purge-nodes",
  "config-node",
  "publish",
  "auto-create",
  "retract-items",
  "subscribe",
  "retrieve-items",
  "retrieve-subscriptions",
  "last-published",
  "persistent-items",
  "item-ids",
];

export class PubSubService {
  /** Nodes created explicitly, with their configuration (every topic exists implicitly too). */
  readonly configs = new Map<string, NodeConfig>();

  constructor(private readonly hub: XmppHub) {}

  handleIq(r: BoundResource, iq: Element, payload: Element): void {
    const set = iq.attr("type") === "set";
    const op = payload.firstElement();
    const fail = (c: StanzaErrorCondition, text?: string, pubsubCond?: string, feature?: string) =>
      r.send(errorReply(iq, c, text, pubsubCond ? el(pubsubCond, NS.pubsubErrors, { feature }) : undefined));
    if (payload.name === "query" && payload.ns === NS.discoInfo)
      return r.send(iqResult(iq, this.discoInfo(payload)));
    if (payload.name === "query" && payload.ns === NS.discoItems)
      return r.send(iqResult(iq, this.discoItems(payload)));
    if (payload.name !== "pubsub" || !op || (payload.ns !== NS.pubsub && payload.ns !== NS.pubsubOwner)) {
      return fail("feature-not-implemented");
    }
    const node = op.attr("node");
    if (payload.ns === NS.pubsubOwner) return this.owner(r, iq, op, set, fail);
    switch (`${op.name}/${set ? "set" : "get"}`) {
      case "create/set":
        return this.create(r, iq, node, payload.child("configure", NS.pubsub), fail);
      case "publish/set":
        return this.publish(r, iq, node, op, fail);
      case "retract/set":
        return this.retract(r, iq, node, op, fail);
      case "subscribe/set":
        return this.subscribe(r, iq, node, op.attr("jid"), fail, payload.child("options", NS.pubsub));
      case "unsubscribe/set":
        return this.unsubscribe(r, iq, node, op.attr("jid"), fail);
      case "subscriptions/get":
        return r.send(iqResult(iq, this.subscriptionList(r.account, node)));
      case "items/get":
        return this.items(r, iq, node, op, fail);
      default:
        return fail("feature-not-implemented", undefined, "unsupported", op.name);
    }
  }

  // ---- node names and access -------------------------------------------------------------------

  /** Why `node` cannot be written, or undefined. Wildcards and system topics are not nodes one writes. */
  private badNode(node: string | undefined, write: boolean): string | undefined {
    if (node === undefined || node === "") return "a node is required";
    if (node.includes("+") || node.includes("#")) return "node names cannot contain MQTT wildcards";
    if (node.includes("\u0000") || Buffer.byteLength(node) > 65_535) return "invalid node name";
    if (write && node.startsWith("$")) return "system topics are read-only";
    return undefined;
  }

  private allowed(r: BoundResource, action: "publish" | "subscribe", node: string): boolean {
    const c = r.conn;
    const principal = c?.principal;
    return principal !== undefined && this.hub.router.auth.authorize(principal, action, node);
  }

  private lastItem(node: string): Message | undefined {
    let last: Message | undefined;
    this.hub.router.retainedMatching(node, (m) => {
      if (m.topic === node) last = m;
    });
    return last;
  }

  // ---- publish side ------------------------------------------------------------------------------

  private create(
    r: BoundResource,
    iq: Element,
    nodeAttr: string | undefined,
    configure: Element | undefined,
    fail: Fail,
  ) {
    const node = nodeAttr ?? `instant/${randomBytes(8).toString("hex")}`; // XEP-0060 §8.1.2 instant node
    const bad = this.badNode(node, true);
    if (bad) return fail("not-acceptable", bad, "nodeid-required");
    if (!this.allowed(r, "publish", node)) return fail("forbidden");
    if (this.configs.has(node) || this.lastItem(node)) return fail("conflict", "the node exists");
    const config = nodeConfigFrom(configure?.child("x", NS.dataForms));
    if (!config) return fail("not-acceptable", "invalid node configuration");
    this.configs.set(node, config);
    const reply =
      nodeAttr === undefined ? el("pubsub", NS.pubsub, {}, el("create", NS.pubsub, { node })) : undefined;
    r.send(iqResult(iq, reply));
  }

  private publish(r: BoundResource, iq: Element, node: string | undefined, op: Element, fail: Fail) {
    const bad = this.badNode(node, true);
    if (bad || node === undefined) return fail("bad-request", bad, "nodeid-required");
    if (!this.allowed(r, "publish", node)) return fail("forbidden");
    const items = op.elements(NS.pubsub).filter((e) => e.name === "item");
    if (items.length !== 1) return fail("bad-request", "publish exactly one item", "invalid-payload");
    const item = items[0]!;
    const child = item.firstElement();
    if (!child || item.elements().length !== 1)
      return fail("bad-request", "an item carries one payload element", "invalid-payload");
    const mapped = payloadFromItem(child);
    if (!mapped) return fail("bad-request", "malformed payload element", "invalid-payload");
    if (mapped.payload.length === 0)
      return fail("bad-request", "empty payloads delete the last item: use retract", "payload-required");
    const id = item.attr("id") || randomBytes(8).toString("hex");
    if (!this.configs.has(node)) this.configs.set(node, nodeConfigFrom(undefined)!); // auto-create
    const properties = { ...mapped.properties, userProperties: [[ITEM_ID_PROPERTY, id] as [string, string]] };
    const msg = createMessage(node, mapped.payload, 1, true, properties, r.account.clientId);
    msg.publisherUser = r.conn?.principal?.username;
    if (mapped.properties.contentType === "application/xml") OWN_XML.add(msg);
    this.hub.router.publish(msg);
    this.afterCommit(r, fail, () =>
      iqResult(
        iq,
        el("pubsub", NS.pubsub, {}, el("publish", NS.pubsub, { node }, el("item", NS.pubsub, { id }))),
      ),
    );
  }

  /**
   * The result of a publish or retract once the store has committed it (the item is the node's
   * retained message and is queued for offline subscribers), as MQTT's PUBACK waits.
   */
  private afterCommit(r: BoundResource, fail: Fail, result: () => Element): void {
    this.hub.router.store.commit().then(
      () => r.send(result()),
      () => fail("internal-server-error", "store commit failed"),
    );
  }

  private retract(r: BoundResource, iq: Element, node: string | undefined, op: Element, fail: Fail) {
    const bad = this.badNode(node, true);
    if (bad || node === undefined) return fail("bad-request", bad, "nodeid-required");
    if (!this.allowed(r, "publish", node)) return fail("forbidden");
    const id = op.child("item", NS.pubsub)?.attr("id");
    if (!id) return fail("bad-request", undefined, "item-required");
    const last = this.lastItem(node);
    if (!last || itemIdOf(last) !== id) return fail("item-not-found");
    // An empty retained message deletes the last value everywhere (MQTT [MQTT-3.3.1-10]).
    const msg = createMessage(
      node,
      Buffer.alloc(0),
      1,
      true,
      { userProperties: [[ITEM_ID_PROPERTY, id]] },
      r.account.clientId,
    );
    this.hub.router.publish(msg);
    this.afterCommit(r, fail, () => iqResult(iq));
  }

  // ---- subscribe side ----------------------------------------------------------------------------

  private subscribe(
    r: BoundResource,
    iq: Element,
    node: string | undefined,
    jidAttr: string | undefined,
    fail: Fail,
    options?: Element,
  ) {
    const bad = this.badNode(node, false);
    if (bad || node === undefined) return fail("bad-request", bad, "nodeid-required");
    const jid = jidAttr ? parseJid(jidAttr) : undefined;
    if (!jid || bareOf(jid) !== r.account.bare)
      return fail("bad-request", "subscribe your own JID", "invalid-jid");
    if (!this.allowed(r, "subscribe", node)) return fail("forbidden");
    const session = r.account.session;
    if (!session) return fail("internal-server-error");
    const selector = filterOption(options);
    if (selector instanceof SelectorError) return fail("bad-request", `filter: ${selector.message}`);
    this.hub.router.subscribe(session, node, {
      qos: 1,
      noLocal: false,
      retainAsPublished: true,
      retainHandling: 0,
      ...(selector === undefined ? {} : { selector }),
    });
    const sub = el("subscription", NS.pubsub, { node, jid: jidAttr, subscription: "subscribed" });
    r.send(iqResult(iq, el("pubsub", NS.pubsub, {}, sub)));
    // XEP-0060 §6.1.7: the last published item follows the subscription
    const last = this.lastItem(node);
    if (last) for (const res of r.account.availableResources()) this.send(res, last, false);
  }

  private unsubscribe(
    r: BoundResource,
    iq: Element,
    node: string | undefined,
    jidAttr: string | undefined,
    fail: Fail,
  ) {
    if (node === undefined) return fail("bad-request", undefined, "nodeid-required");
    const jid = jidAttr ? parseJid(jidAttr) : undefined;
    if (!jid || bareOf(jid) !== r.account.bare) return fail("bad-request", undefined, "invalid-jid");
    const session = r.account.session;
    if (!session || !this.hub.router.unsubscribe(session, node)) {
      return fail("unexpected-request", "not subscribed", "not-subscribed");
    }
    r.send(iqResult(iq));
  }

  private subscriptionList(account: Account, node: string | undefined): Element {
    const list = el("subscriptions", NS.pubsub, { node });
    for (const filter of account.session?.subscriptions.keys() ?? []) {
      if (node !== undefined && filter !== node) continue;
      list.add(
        el("subscription", NS.pubsub, { node: filter, jid: account.bare, subscription: "subscribed" }),
      );
    }
    return el("pubsub", NS.pubsub, {}, list);
  }

  private items(r: BoundResource, iq: Element, node: string | undefined, op: Element, fail: Fail) {
    const bad = this.badNode(node, false);
    if (bad || node === undefined) return fail("bad-request", bad, "nodeid-required");
    if (!this.allowed(r, "subscribe", node)) return fail("forbidden");
    const wanted = op
      .elements(NS.pubsub)
      .filter((e) => e.name === "item")
      .map((e) => e.attr("id"));
    const items = el("items", NS.pubsub, { node });
    const last = this.lastItem(node);
    const maxItems = Number(op.attr("max_items") ?? "1");
    if (last && maxItems !== 0 && (wanted.length === 0 || wanted.includes(itemIdOf(last)))) {
      items.add(
        el(
          "item",
          NS.pubsub,
          { id: itemIdOf(last) },
          rawXml(itemPayloadXml(last.payload, last.properties, fromXmpp(last))),
        ),
      );
    }
    r.send(iqResult(iq, el("pubsub", NS.pubsub, {}, items)));
  }

  // ---- owner use cases -------------------------------------------------------------------------------

  private owner(r: BoundResource, iq: Element, op: Element, set: boolean, fail: Fail) {
    const node = op.attr("node");
    const bad = this.badNode(node, true);
    if (bad || node === undefined) return fail("bad-request", bad, "nodeid-required");
    if (!this.allowed(r, "publish", node)) return fail("forbidden");
    if (op.name === "configure" && !set) {
      const config = this.configs.get(node) ?? nodeConfigFrom(undefined)!;
      return r.send(
        iqResult(
          iq,
          el("pubsub", NS.pubsubOwner, {}, el("configure", NS.pubsubOwner, { node }, configureForm(config))),
        ),
      );
    }
    if (op.name === "configure" && set) {
      const config = nodeConfigFrom(op.child("x", NS.dataForms));
      if (!config) return fail("not-acceptable", "invalid node configuration");
      this.configs.set(node, config);
      return r.send(iqResult(iq));
    }
    if ((op.name === "delete" || op.name === "purge") && set) {
      if (!this.configs.has(node) && !this.lastItem(node)) return fail("item-not-found");
      if (this.lastItem(node))
        this.hub.router.publish(createMessage(node, Buffer.alloc(0), 1, true, undefined, r.account.clientId));
      if (op.name === "delete") this.deleteNode(node);
      return r.send(iqResult(iq));
    }
    return fail("feature-not-implemented", undefined, "unsupported", op.name);
  }

  /** XEP-0060 §8.4: subscribers get <delete/> and lose their subscriptions. */
  private deleteNode(node: string): void {
    this.configs.delete(node);
    const router = this.hub.router;
    for (const session of [...router.sessions.values()]) {
      if (session.protocol !== "xmpp" || !session.subscriptions.has(node)) continue;
      router.unsubscribe(session, node);
      const account = this.hub.accounts.get(session.clientId.slice("xmpp:".length));
      if (!account) continue;
      for (const res of account.availableResources()) {
        res.sendXml(
          `<message xmlns='${NS.client}' from='${this.hub.pubsubDomain}' to='${escapeAttr(res.jid)}'><event xmlns='${NS.pubsubEvent}'><delete node='${escapeAttr(node)}'/></event></message>`,
        );
      }
    }
  }

  // ---- notifications (hot path) ------------------------------------------------------------------

  /** A message matched the account's subscription: an event to each available resource. */
  notify(account: Account, message: Message, delayed = false): void {
    let any = false;
    for (const res of account.availableResources()) {
      any = true;
      this.send(res, message, delayed);
    }
    const session = account.session;
    // Nobody available: a QoS 1 item waits in the persistent session like an offline message.
    if (!any && session?.persistent && message.qos > 0 && !delayed)
      this.hub.router.enqueue(session, message, 1, false);
  }

  private send(res: BoundResource, message: Message, delayed: boolean): void {
    const conn = res.conn;
    if (conn && conn.stream.writableLength > this.hub.options.maxBufferedBytes) return; // slow reader: dropped
    // The event body is encoded once per message and shared; only 'to' differs per subscriber.
    let body = message.encoded?.get(ENCODED_KEY);
    if (!body) {
      body = Buffer.from(this.eventBody(message), "utf8");
      message.encoded ??= new Map();
      message.encoded.set(ENCODED_KEY, body);
    }
    const delay = delayed
      ? `<delay xmlns='${NS.delay}' stamp='${new Date(message.timestamp).toISOString()}'/>`
      : "";
    res.sendXml(
      `<message xmlns='${NS.client}' from='${this.hub.pubsubDomain}' to='${escapeAttr(res.jid)}' type='headline'>${body.toString("utf8")}${delay}</message>`,
    );
  }

  private eventBody(m: Message): string {
    const node = escapeAttr(m.topic);
    const id = escapeAttr(itemIdOf(m));
    if (m.payload.length === 0 && m.retain) {
      return `<event xmlns='${NS.pubsubEvent}'><items node='${node}'><retract id='${id}'/></items></event>`;
    }
    const publisher = m.publisherId.startsWith("xmpp:")
      ? ` publisher='${escapeAttr(m.publisherId.slice(5))}'`
      : "";
    const payload = itemPayloadXml(m.payload, m.properties, fromXmpp(m));
    return `<event xmlns='${NS.pubsubEvent}'><items node='${node}'><item id='${id}'${publisher}>${payload}</item></items></event>`;
  }

  // ---- discovery ---------------------------------------------------------------------------------

  private discoInfo(query: Element): Element {
    const node = query.attr("node");
    const q = el("query", NS.discoInfo, { node });
    if (node === undefined) {
      q.add(
        el("identity", NS.discoInfo, { category: "pubsub", type: "service", name: "Switchboard topics" }),
      );
      q.add(el("feature", NS.discoInfo, { var: NS.pubsub }));
      for (const f of PUBSUB_FEATURES) q.add(el("feature", NS.discoInfo, { var: `${NS.pubsub}#${f}` }));
    } else {
      q.add(el("identity", NS.discoInfo, { category: "pubsub", type: "leaf" }));
      q.add(el("feature", NS.discoInfo, { var: NS.pubsub }));
    }
    q.add(el("feature", NS.discoInfo, { var: NS.discoInfo }));
    q.add(el("feature", NS.discoInfo, { var: NS.discoItems }));
    return q;
  }

  private discoItems(query: Element): Element {
    const node = query.attr("node");
    const q = el("query", NS.discoItems, { node });
    const jid = this.hub.pubsubDomain;
    if (node !== undefined) {
      const last = this.lastItem(node);
      if (last) q.add(el("item", NS.discoItems, { jid, name: itemIdOf(last) }));
      return q;
    }
    const nodes = new Set(this.configs.keys());
    this.hub.router.retainedMatching("#", (m) => {
      if (nodes.size < MAX_LISTED_NODES) nodes.add(m.topic);
    });
    for (const n of nodes) q.add(el("item", NS.discoItems, { jid, node: n }));
    return q;
  }
}

type Fail = (c: StanzaErrorCondition, text?: string, pubsubCond?: string, feature?: string) => void;

/** The item id: the one its XMPP publisher gave or got, else one derived from the message. */
export function itemIdOf(m: Message): string {
  const props = m.properties.userProperties;
  if (props) for (const [k, v] of props) if (k === ITEM_ID_PROPERTY) return v;
  return `${m.timestamp.toString(36)}-${m.payload.length.toString(36)}`;
}

/**
 * Messages whose XML payload this adapter serialized itself from a parsed element: only those are
 * inlined as XML (a publisher id is no proof: an MQTT client may call itself "xmpp:...").
 */
const OWN_XML = new WeakSet<Message>();

function fromXmpp(m: Message): boolean {
  return OWN_XML.has(m);
}

/** The data-form field of subscribe options (XEP-0060 §6.3) that carries a selector (docs/filters.md). */
export const FILTER_FIELD = "switchboard#filter";

/**
 * The `switchboard#filter` field of a subscribe-options form (XEP-0060 §6.3.7, "subscribe and
 * configure"), checked now so a bad selector is a `bad-request`; undefined: no filter.
 */
function filterOption(options: Element | undefined): string | SelectorError | undefined {
  const form = options?.child("x", NS.dataForms);
  if (!form) return undefined;
  for (const field of form.elements(NS.dataForms)) {
    if (field.name !== "field" || field.attr("var") !== FILTER_FIELD) continue;
    const text = field.child("value", NS.dataForms)?.text() ?? "";
    if (text.trim() === "") return undefined;
    try {
      compileSelector(text);
    } catch (err) {
      if (err instanceof SelectorError) return err;
      throw err;
    }
    return text;
  }
  return undefined;
}
