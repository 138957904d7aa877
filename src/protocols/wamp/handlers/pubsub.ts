/**
 * PubSub (WAMP §11 and the advanced profile): SUBSCRIBE with exact, prefix and wildcard matching and
 * retained events; UNSUBSCRIBE; PUBLISH with acknowledge, publisher exclusion (exclude_me),
 * publisher identification (disclose_me), subscriber black- and whitelisting and retain. Topics are
 * the core's topics (`a.b.c` is `a/b/c`), so every protocol's subscribers receive WAMP events and
 * WAMP subscribers receive every protocol's messages.
 */
import { subscribeScope } from "../../../core/auth.js";
import type { RecipientFilter } from "../../../core/recipients.js";
import { authIdOf, authRoleOf } from "../../../core/recipients.js";
import { type CompiledSelector, compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import {
  type Dict,
  isId,
  MessageType,
  type Publish,
  type Subscribe,
  type Unsubscribe,
  WampError,
} from "../codec/messages.js";
import { isReservedUri, isValidUri, uriToTopic } from "../codec/uri.js";
import type { WampConnection } from "../connection.js";
import { encodeEvent, eventInfo, type PublisherIdentity, setEventInfo } from "../events.js";
import { argsOf, createWampMessage } from "../payload.js";
import { type SubscriptionMatch, subscriptionFilter, type WampSubscription } from "../subscriptions.js";

const MATCHES: readonly string[] = ["exact", "prefix", "wildcard"];
const SUBSCRIBE_OPTIONS = { qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 } as const;

/** A topic URI valid for this match policy; `+` is refused (it is an MQTT wildcard in the core). */
function validTopic(conn: WampConnection, uri: string, match: string): boolean {
  return isValidUri(uri, conn.ctx.options.uriCheck, match !== "exact") && !uri.includes("+");
}

export function handleSubscribe(conn: WampConnection, [, request, options, topic]: Subscribe): void {
  const match = options.match ?? "exact";
  if (typeof match !== "string" || !MATCHES.includes(match)) {
    return conn.sendError(MessageType.SUBSCRIBE, request, WampError.invalidArgument, {
      args: [`unknown match policy ${String(match)}`],
    });
  }
  if (!validTopic(conn, topic, match))
    return conn.sendError(MessageType.SUBSCRIBE, request, WampError.invalidUri);
  let selector: CompiledSelector | undefined;
  if (options.filter !== undefined) {
    if (typeof options.filter !== "string") {
      return conn.sendError(MessageType.SUBSCRIBE, request, WampError.invalidArgument, {
        args: ["filter must be a string"],
      });
    }
    try {
      selector = compileSelector(options.filter);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      return conn.sendError(MessageType.SUBSCRIBE, request, WampError.invalidArgument, {
        args: [`invalid filter: ${err.message}`],
      });
    }
  }
  const ctx = conn.ctx;
  const scope = subscribeScope(
    ctx.router.auth,
    conn.principal!,
    subscriptionFilter(topic, match as SubscriptionMatch),
  );
  if (scope === "none") return conn.sendError(MessageType.SUBSCRIBE, request, WampError.notAuthorized);
  const { sub, created } = ctx.subscriptions.subscribe(conn, topic, match as SubscriptionMatch);
  const session = conn.session!;
  const isNew = !conn.subscriptions.has(sub.id);
  if (isNew) {
    conn.subscriptions.set(sub.id, sub);
    const list = conn.byFilter.get(sub.filter);
    if (list === undefined) {
      conn.byFilter.set(sub.filter, [sub]);
      ctx.router.subscribe(session, sub.filter, { ...SUBSCRIBE_OPTIONS });
    } else list.push(sub);
    if (scope === "some") {
      conn.partlyAllowed ??= new Set();
      conn.partlyAllowed.add(sub.filter);
    }
  }
  // A subscription's filter is this session's: subscribing again replaces (or removes) it.
  if (selector !== undefined) {
    conn.filters ??= new Map();
    conn.filters.set(sub.id, selector);
  } else conn.filters?.delete(sub.id);
  // SUBSCRIBED first: a meta event about this very subscription may reach this session.
  conn.send([MessageType.SUBSCRIBED, request, sub.id]);
  if (isNew) {
    if (created) ctx.meta.subscriptionCreated(session, sub);
    ctx.meta.subscribed(session, sub);
  }
  if (options.get_retained === true) sendRetained(conn, sub);
}

/** Retained events for a new subscription (advanced profile, "Event Retention"). */
function sendRetained(conn: WampConnection, sub: WampSubscription): void {
  const auth = conn.ctx.router.auth;
  const partly = conn.partlyAllowed?.has(sub.filter) === true;
  conn.ctx.router.retainedMatching(sub.filter, (m) => {
    if (partly && !auth.authorize(conn.principal!, "subscribe", m.topic)) return;
    const sel = conn.filters?.get(sub.id);
    if (sel !== undefined && !conn.ctx.router.selectors.selects(sel, m)) return;
    const info = eventInfo(m);
    if (sub.accepts(info.uri)) conn.sendBytes(encodeEvent(m, info, sub, conn.serializer, true));
  });
}

export function handleUnsubscribe(conn: WampConnection, [, request, id]: Unsubscribe): void {
  const sub = conn.subscriptions.get(id);
  if (sub === undefined)
    return conn.sendError(MessageType.UNSUBSCRIBE, request, WampError.noSuchSubscription);
  unsubscribe(conn, sub);
  conn.send([MessageType.UNSUBSCRIBED, request]);
}

/** Removes one of the connection's subscriptions from the broker registry and the core. */
export function unsubscribe(conn: WampConnection, sub: WampSubscription): void {
  const ctx = conn.ctx;
  const session = conn.session;
  conn.subscriptions.delete(sub.id);
  conn.filters?.delete(sub.id);
  const list = conn.byFilter.get(sub.filter);
  if (list !== undefined) {
    const i = list.indexOf(sub);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      conn.byFilter.delete(sub.filter);
      conn.partlyAllowed?.delete(sub.filter);
      if (session) ctx.router.unsubscribe(session, sub.filter);
    }
  }
  const deleted = ctx.subscriptions.unsubscribe(conn, sub);
  if (session) {
    ctx.meta.unsubscribed(session, sub);
    if (deleted) ctx.meta.subscriptionDeleted(session, sub);
  }
}

const EXCLUDE_ME: RecipientFilter = Object.freeze({ excludePublisher: true });

export function handlePublish(
  conn: WampConnection,
  [, request, options, topic, args, kwargs]: Publish,
): void {
  const ack = options.acknowledge === true;
  if (!validTopic(conn, topic, "exact") || isReservedUri(topic)) {
    if (ack) conn.sendError(MessageType.PUBLISH, request, WampError.invalidUri);
    return;
  }
  const ctx = conn.ctx;
  const canonical = uriToTopic(topic);
  if (!ctx.router.auth.authorize(conn.principal!, "publish", canonical)) {
    if (ack) conn.sendError(MessageType.PUBLISH, request, WampError.notAuthorized);
    return;
  }
  const recipients = recipientFilter(options);
  if (typeof recipients === "string") {
    if (ack) conn.sendError(MessageType.PUBLISH, request, WampError.invalidArgument, { args: [recipients] });
    return;
  }
  const session = conn.session!;
  const m = createWampMessage(canonical, args, kwargs, options.retain === true, session.clientId);
  m.publisherUser = conn.principal!.username;
  if (recipients !== undefined) m.recipients = recipients;
  let publisher: PublisherIdentity | undefined;
  if (options.disclose_me === true) {
    publisher = {
      publisher: session.id,
      publisher_authid: authIdOf(session),
      publisher_authrole: authRoleOf(session),
    };
  }
  const info = setEventInfo(m, argsOf(args, kwargs), publisher, topic);
  ctx.router.stats.messagesReceived++;
  session.messagesIn++;
  ctx.router.publish(m);
  if (ack) conn.send([MessageType.PUBLISHED, request, info.publication]);
}

/** The recipients of a PUBLISH (publisher exclusion, black/white lists), or why its options are bad. */
function recipientFilter(options: Dict): RecipientFilter | undefined | string {
  const excludeMe = options.exclude_me !== false;
  const exclude = idSet(options.exclude);
  const eligible = idSet(options.eligible);
  const excludeAuthId = stringSet(options.exclude_authid);
  const eligibleAuthId = stringSet(options.eligible_authid);
  const excludeAuthRole = stringSet(options.exclude_authrole);
  const eligibleAuthRole = stringSet(options.eligible_authrole);
  for (const s of [exclude, eligible, excludeAuthId, eligibleAuthId, excludeAuthRole, eligibleAuthRole]) {
    if (s === null) return "exclude/eligible options must be lists of session ids, authids or authroles";
  }
  if (!exclude && !eligible && !excludeAuthId && !eligibleAuthId && !excludeAuthRole && !eligibleAuthRole) {
    return excludeMe ? EXCLUDE_ME : undefined;
  }
  return {
    excludePublisher: excludeMe,
    exclude: exclude ?? undefined,
    eligible: eligible ?? undefined,
    excludeAuthId: excludeAuthId ?? undefined,
    eligibleAuthId: eligibleAuthId ?? undefined,
    excludeAuthRole: excludeAuthRole ?? undefined,
    eligibleAuthRole: eligibleAuthRole ?? undefined,
  };
}

/** undefined when absent, null when malformed. */
function idSet(v: unknown): Set<number> | undefined | null {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every(isId)) return null;
  return new Set(v as number[]);
}

function stringSet(v: unknown): Set<string> | undefined | null {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) return null;
  return new Set(v as string[]);
}
