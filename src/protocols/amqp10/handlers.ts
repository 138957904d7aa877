/**
 * attach (part 2 §2.7.3) and routing of received messages. A refused attach is answered as the
 * specification says (part 2 §2.6.3): an attach with a null source (or target), then a detach with
 * the error.
 */

import { randomBytes } from "node:crypto";
import { subscribeScope } from "../../core/auth.js";
import { AckScope, QueueError } from "../../core/queues/index.js";
import { type CompiledSelector, compileSelector } from "../../core/selector/compile.js";
import { SelectorError } from "../../core/selector/lexer.js";
import { filterOfName, parseAddress, topicOfName } from "./address.js";
import { codeOf, fieldsOf, P } from "./codec/frames.js";
import {
  type AmqpValue,
  bool,
  boolOf,
  described,
  list,
  map,
  NULL,
  numberOf,
  str,
  sym,
  symArray,
  textOf,
  ubyte,
  uint,
  ulong,
} from "./codec/types.js";
import { Amqp10Error, Cond, errorValue } from "./errors.js";
import { feedQueueOptions, type TopicFeed } from "./feed.js";
import { rpcCall } from "./handlers-rpc.js";
import { type Destination, IncomingLink, OutgoingLink } from "./links.js";
import type { Amqp10Message } from "./message-mapping.js";
import { type Amqp10Session, rejected } from "./session.js";

const SELECTOR_SYMBOL = "apache.org:selector-filter:string";
const SELECTOR_CODE = 0x0000468c00000004n;

/** Prefix of the topics behind dynamic receiver nodes (temporary reply queues). */
export const DYNAMIC_PREFIX = "$reply/amqp10/";

class Refusal extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
  }
}

export function onAttach(s: Amqp10Session, f: AmqpValue[]): void {
  const name = textOf(f[0]);
  const handle = numberOf(f[1]);
  const role = boolOf(f[2]);
  if (name === undefined || handle === undefined || Number.isNaN(handle) || role === undefined) {
    throw new Amqp10Error(Cond.invalidField, "attach needs name, handle and role");
  }
  if (s.links.has(handle))
    throw new Amqp10Error(Cond.handleInUse, `handle ${handle} is already in use`, "session");
  if (handle > s.handleMax) {
    throw new Amqp10Error(Cond.notAllowed, `handle ${handle} is above handle-max ${s.handleMax}`, "session");
  }
  if (!s.conn.principal) throw new Amqp10Error(Cond.unauthorizedAccess, "not authenticated");
  if (role) attachOutgoing(s, name, handle, f);
  else attachIncoming(s, name, handle, f);
}

/** The handle stays taken, detached, until the client answers the broker's detach. */
function refused(s: Amqp10Session, link: IncomingLink | OutgoingLink, err: Refusal): void {
  link.detached = true;
  s.links.set(link.handle, link);
  s.send(P.detach, [uint(link.handle), bool(true), errorValue(err.condition, err.message)]);
}

// ---- the client sends: the broker is the receiver -------------------------------------------------

function attachIncoming(s: Amqp10Session, name: string, handle: number, f: AmqpValue[]): void {
  const target = f[6];
  let dest: Destination;
  try {
    dest = resolveTarget(s, target);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    s.send(P.attach, [str(name), uint(handle), bool(true), f[3] ?? NULL, ubyte(0), f[5] ?? NULL, NULL]);
    refused(s, new IncomingLink(name, handle, { kind: "anonymous" }, 0), err);
    return;
  }
  const initial = numberOf(f[9]) ?? 0;
  const link = new IncomingLink(name, handle, dest, Number.isNaN(initial) ? 0 : initial);
  s.links.set(handle, link);
  s.send(P.attach, [
    str(name),
    uint(handle),
    bool(true),
    f[3] ?? NULL,
    ubyte(0), // rcv-settle-mode first: the broker settles as soon as it has routed a message
    f[5] ?? NULL,
    target ?? NULL,
    NULL,
    NULL,
    NULL,
    ulong(s.conn.options.maxMessageSize),
  ]);
  s.topUpCredit();
}

function resolveTarget(s: Amqp10Session, target: AmqpValue | undefined): Destination {
  const code = codeOf(target);
  if (code === P.coordinator) throw new Refusal(Cond.notImplemented, "transactions are not supported");
  if (code !== P.target) throw new Refusal(Cond.invalidField, "attach has no target");
  const t = fieldsOf(target);
  if (boolOf(t[4]) === true)
    throw new Refusal(Cond.notImplemented, "dynamic targets are not supported: send to /queue/ or /topic/");
  const address = textOf(t[0]);
  if (address === undefined) return { kind: "anonymous" };
  const a = parseAddress(address);
  const principal = s.conn.principal!;
  switch (a.kind) {
    case "error":
      throw new Refusal(Cond.notFound, a.message);
    case "exchange-subject":
      return { kind: "subject" };
    case "topic": {
      const topic = topicOfName(a.name);
      if (topic === undefined)
        throw new Refusal(Cond.invalidField, `cannot send to a wildcard address '${address}'`);
      if (!s.conn.router.auth.authorize(principal, "publish", topic)) {
        throw new Refusal(Cond.unauthorizedAccess, `not authorized to publish to '${address}'`);
      }
      return { kind: "topic", topic };
    }
    case "rpc":
      return { kind: "rpc", procedure: a.procedure };
    case "queue":
      if (!s.conn.router.auth.authorize(principal, "publish", queueAclName(a.name))) {
        throw new Refusal(Cond.unauthorizedAccess, `not authorized to send to '${address}'`);
      }
      ensureQueue(s, a.name);
      return { kind: "queue", name: a.name };
  }
}

function queueAclName(name: string): string {
  return `$queue/${name}`;
}

/** `/queue/name` is created on first use, durable, as RabbitMQ's AMQP 1.0 plugin and STOMP do. */
function ensureQueue(s: Amqp10Session, name: string): void {
  const q = s.conn.router.queues.find(name);
  if (q && !q.isDeleted) {
    try {
      q.checkOwner(s.conn.id);
    } catch (err) {
      if (err instanceof QueueError) throw new Refusal(Cond.resourceLocked, err.message);
      throw err;
    }
    return;
  }
  s.conn.router.queues.declare(name, { durable: true, autoDelete: false });
}

/**
 * Routes one received message; returns the outcome when it is not `accepted` (undefined). Per-message
 * ACL checks apply where the address is only known per message (anonymous relay, subject routing).
 */
export function routeMessage(
  s: Amqp10Session,
  link: IncomingLink,
  message: Amqp10Message,
  to: string | undefined,
  subject: string | undefined,
): AmqpValue | undefined {
  const router = s.conn.router;
  router.stats.messagesReceived++;
  let dest = link.destination;
  if (dest.kind === "anonymous" || dest.kind === "subject") {
    let topic: string | undefined;
    if (dest.kind === "subject") topic = subject === undefined ? undefined : topicOfName(subject);
    else if (to !== undefined) {
      const a = parseAddress(to);
      if (a.kind === "queue") {
        if (!router.auth.authorize(s.conn.principal!, "publish", queueAclName(a.name))) {
          return rejected(Cond.unauthorizedAccess, `not authorized to send to '${to}'`);
        }
        dest = { kind: "queue", name: a.name };
      } else if (a.kind === "topic") topic = topicOfName(a.name);
      else return rejected(Cond.notFound, a.kind === "error" ? a.message : "to needs a full address");
    } else return rejected(Cond.invalidField, "the anonymous relay needs properties.to");
    if (dest.kind !== "queue") {
      if (topic === undefined) return rejected(Cond.invalidField, "no topic to route the message to");
      if (!router.auth.authorize(s.conn.principal!, "publish", topic)) {
        return rejected(Cond.unauthorizedAccess, `not authorized to publish to '${topic}'`);
      }
      dest = { kind: "topic", topic };
    }
  }
  if (dest.kind === "topic") {
    message.topic = dest.topic;
    router.publish(message);
    return undefined;
  }
  if (dest.kind === "rpc") {
    rpcCall(s, dest.procedure, message);
    return undefined;
  }
  if (dest.kind !== "queue") return undefined;
  message.topic = dest.name;
  const q = router.queues.find(dest.name);
  if (!q || q.isDeleted) return rejected(Cond.notFound, `queue '${dest.name}' does not exist`);
  if (q.publish(message) === "refused")
    return rejected(Cond.resourceLimitExceeded, `queue '${dest.name}' is full`);
  return undefined;
}

// ---- the client receives: the broker is the sender ------------------------------------------------

function attachOutgoing(s: Amqp10Session, name: string, handle: number, f: AmqpValue[]): void {
  const sndMode = numberOf(f[3]) ?? 2;
  const presettled = sndMode === 1;
  const source = f[5];
  let attached: ReturnType<typeof resolveSource>;
  try {
    attached = resolveSource(s, name, source);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    s.send(P.attach, [
      str(name),
      uint(handle),
      bool(false),
      ubyte(sndMode),
      ubyte(0),
      NULL,
      f[6] ?? NULL,
      NULL,
      NULL,
      uint(0),
    ]);
    refused(s, new OutgoingLink(name, handle, presettled, NULL), err);
    return;
  }
  const link = new OutgoingLink(name, handle, presettled, attached.source);
  link.feed = attached.feed;
  s.links.set(handle, link);
  s.send(P.attach, [
    str(name),
    uint(handle),
    bool(false),
    ubyte(sndMode),
    f[4] ?? ubyte(0),
    attached.source,
    f[6] ?? NULL,
    NULL,
    NULL,
    uint(0),
  ]);
  const queue = s.conn.router.queues.find(attached.queue)!;
  try {
    link.consumer = queue.addConsumer({
      tag: `${s.conn.id}/${s.channel}/${handle}`,
      prefetch: 0,
      noAck: presettled,
      owner: s.conn.id,
      paused: true,
      scope: new AckScope(),
      ...(attached.queueSelector === undefined ? {} : { selector: attached.queueSelector }),
      onMessage: (d) => s.sendDelivery(link, d),
      onCancel: () => {
        if (!link.detached) s.detachWith(link, Cond.resourceDeleted, `queue '${attached.queue}' was deleted`);
      },
    });
  } catch (err) {
    if (!(err instanceof QueueError)) throw err;
    s.detachWith(link, err.code === "RESOURCE_LOCKED" ? Cond.resourceLocked : Cond.notAllowed, err.message);
  }
}

function resolveSource(
  s: Amqp10Session,
  linkName: string,
  source: AmqpValue | undefined,
): { source: AmqpValue; queue: string; feed: TopicFeed | undefined; queueSelector: string | undefined } {
  if (codeOf(source) !== P.source) throw new Refusal(Cond.invalidField, "attach has no source");
  const src = fieldsOf(source);
  const conn = s.conn;
  const router = conn.router;
  const principal = conn.principal!;
  const selector = selectorOf(src[7]);
  const dynamic = boolOf(src[4]) === true;
  let address = textOf(src[0]);
  if (dynamic) {
    const topic = DYNAMIC_PREFIX + randomBytes(12).toString("hex");
    address = `/topic/${topic.replaceAll("/", ".")}`;
  }
  if (address === undefined) throw new Refusal(Cond.invalidField, "source has no address");
  const a = parseAddress(address);
  let queue: string;
  let feed: TopicFeed | undefined;
  const durableAsked = numberOf(src[1]) ?? 0;
  const expiry = textOf(src[2]) ?? "session-end";
  let durable = 0;
  if (a.kind === "error" || a.kind === "exchange-subject" || a.kind === "rpc") {
    throw new Refusal(Cond.notFound, a.kind === "error" ? a.message : `cannot receive from '${address}'`);
  }
  if (a.kind === "queue") {
    // The selector makes the link a filtering consumer of the queue (core queues, docs/filters.md):
    // messages it does not select stay in the queue, in order, for other consumers.
    if (!router.auth.authorize(principal, "subscribe", queueAclName(a.name))) {
      throw new Refusal(Cond.unauthorizedAccess, `not authorized to receive from '${address}'`);
    }
    ensureQueue(s, a.name);
    queue = a.name;
  } else {
    const filter = filterOfName(a.name);
    if (filter === undefined)
      throw new Refusal(Cond.invalidField, `'${address}' is not a valid topic filter`);
    const scope = dynamic ? "all" : subscribeScope(router.auth, principal, filter);
    if (scope === "none")
      throw new Refusal(Cond.unauthorizedAccess, `not authorized to receive from '${address}'`);
    const isDurable = !dynamic && durableAsked > 0 && expiry === "never";
    if (isDurable) {
      durable = durableAsked;
      queue = `amqp10-subscription-${conn.containerId || "anonymous"}-${linkName}`;
    } else {
      queue = `amqp10-link-${conn.id}-${s.channel}-${linkName}-${randomBytes(4).toString("hex")}`;
    }
    const existing = router.queues.find(queue);
    if (!existing || existing.isDeleted)
      router.queues.declare(queue, feedQueueOptions(router, isDurable, conn.id));
    feed = conn.adapter.feed(queue, isDurable);
    feed.principal = scope === "some" ? principal : undefined;
    feed.selector = selector;
    feed.subscribe(filter);
  }
  const fields: AmqpValue[] = [
    str(address),
    uint(durable),
    sym(durable > 0 ? "never" : expiry === "never" ? "session-end" : expiry),
    NULL,
    bool(dynamic),
    NULL,
    NULL,
    selector ? map([[sym("selector"), selectorValue(selector.source)]]) : NULL,
    described(P.modified, list([bool(true)])),
    symArray(["amqp:accepted:list", "amqp:rejected:list", "amqp:released:list", "amqp:modified:list"]),
  ];
  const queueSelector = a.kind === "queue" ? selector?.source : undefined;
  return { source: described(P.source, list(fields)), queue, feed, queueSelector };
}

function selectorValue(text: string): AmqpValue {
  return { type: "described", descriptor: sym(SELECTOR_SYMBOL), value: str(text) };
}

/** The selector in a source's filter set, compiled; other filters are not applied (nor echoed). */
function selectorOf(filter: AmqpValue | undefined): CompiledSelector | undefined {
  if (filter === undefined || filter.type !== "map") return undefined;
  for (const [, v] of filter.value) {
    if (v.type !== "described") continue;
    const d = v.descriptor;
    const isSelector =
      (d.type === "symbol" && d.value === SELECTOR_SYMBOL) ||
      (d.type === "ulong" && d.value === SELECTOR_CODE);
    if (!isSelector) continue;
    const text = textOf(v.value);
    if (text === undefined) throw new Refusal(Cond.invalidField, "selector filter value must be a string");
    try {
      return compileSelector(text);
    } catch (err) {
      if (err instanceof SelectorError)
        throw new Refusal(Cond.invalidField, `invalid selector: ${err.message}`);
      throw err;
    }
  }
  return undefined;
}
