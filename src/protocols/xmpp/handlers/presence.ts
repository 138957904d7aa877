/**
 * <presence/> (RFC 6121 §3-4): broadcast of available/unavailable presence to the user's
 * subscribers and own resources, initial-presence probes, directed presence, and the subscription
 * handshake (subscribe / subscribed / unsubscribe / unsubscribed) with roster pushes.
 */
import type { Account } from "../account.js";
import type { XmppHub } from "../hub.js";
import { bareOf, fullOf, parseJid } from "../jid.js";
import { NS } from "../namespaces.js";
import type { BoundResource } from "../resource.js";
import { hasFrom, hasTo, type RosterItem, withFrom, withTo } from "../roster.js";
import { errorReply } from "../stanza-error.js";
import { type Element, el } from "../xml/element.js";
import { pushRosterItem } from "./roster.js";

export function handlePresence(r: BoundResource, p: Element): void {
  const hub = r.hub;
  const type = p.attr("type");
  const toAttr = p.attr("to");
  if (toAttr === undefined) {
    if (type === undefined) available(r, p);
    else if (type === "unavailable") unavailable(r, p);
    else if (type !== "error") r.send(errorReply(p, "bad-request", "subscription requests need a 'to'"));
    return;
  }
  const to = parseJid(toAttr);
  if (!to) {
    r.send(errorReply(p, "jid-malformed"));
    return;
  }
  if (to.domain === hub.directoryDomain) {
    hub.directory.presence(r, p, type);
    return;
  }
  if (to.domain !== hub.options.domain || to.local === "") {
    if (type !== "error" && to.domain !== hub.options.domain)
      r.send(errorReply(p, "remote-server-not-found"));
    return;
  }
  const contact = bareOf(to);
  switch (type) {
    case undefined:
    case "unavailable":
      directed(r, p, fullOf(to), type === "unavailable");
      return;
    case "subscribe":
    case "subscribed":
    case "unsubscribe":
    case "unsubscribed":
      subscription(hub, r.account.bare, contact, type);
      return;
    case "probe":
      probe(hub, r, contact);
      return;
    case "error":
      if (to.resource) hub.resourceOf(contact, to.resource)?.send(stamp(p, r.jid, fullOf(to)));
      return;
    default:
      r.send(errorReply(p, "bad-request", `unknown presence type '${type}'`));
  }
}

/** A copy of `p` from `from` to `to` (children kept). */
function stamp(p: Element, from: string, to: string, type?: string): Element {
  const attrs: Record<string, string | undefined> = { ...p.attrs, from, to };
  if (type !== undefined) attrs.type = type;
  return el("presence", NS.client, attrs, ...p.children);
}

/** The resources that see `account`'s presence: subscribers' available resources and its own. */
function* watchers(hub: XmppHub, account: Account): Iterable<BoundResource> {
  for (const contact of account.roster.presenceSubscribers()) {
    const a = hub.accounts.get(contact);
    if (a) for (const res of a.resources.values()) if (res.available) yield res;
  }
  for (const res of account.resources.values()) if (res.available) yield res;
}

function available(r: BoundResource, p: Element): void {
  const initial = !r.available;
  const prio = Number.parseInt(p.child("priority", NS.client)?.text() ?? "0", 10);
  r.priority = Number.isFinite(prio) ? Math.max(-128, Math.min(127, prio)) : 0;
  r.available = true;
  r.presence = el("presence", NS.client, {}, ...p.children);
  const hub = r.hub;
  for (const w of watchers(hub, r.account)) w.send(stamp(r.presence, r.jid, w.jid));
  if (!initial) return;
  // RFC 6121 §4.2.2-3: probe the contacts we are subscribed to (answered here: they are local),
  // and tell the new resource about the user's other resources.
  for (const contact of r.account.roster.presenceSubscriptions()) sendPresenceOf(hub, contact, r);
  for (const other of r.account.resources.values()) {
    if (other !== r && other.available && other.presence) r.send(stamp(other.presence, other.jid, r.jid));
  }
  for (const [from, req] of r.account.roster.pendingIn) r.send(stamp(req, from, r.account.bare, "subscribe"));
  hub.offline.flush(r);
  r.account.drain();
  hub.directory.initialPresence(r);
}

/** The current presence of `contact`'s available resources, sent to `to`. */
function sendPresenceOf(hub: XmppHub, contact: string, to: BoundResource): void {
  const a = hub.accounts.get(contact);
  if (!a) return;
  for (const res of a.resources.values()) {
    if (res.available && res.presence) to.send(stamp(res.presence, res.jid, to.jid));
  }
}

function unavailable(r: BoundResource, p: Element): void {
  if (!r.available) return;
  const out = el("presence", NS.client, { type: "unavailable" }, ...p.children);
  for (const w of watchers(r.hub, r.account)) if (w !== r) w.send(stamp(out, r.jid, w.jid));
  r.send(stamp(out, r.jid, r.jid));
  r.available = false;
  r.presence = undefined;
  sendDirectedUnavailable(r, out);
}

/** The resource ended: its watchers learn it is gone (RFC 6121 §4.5.1). */
export function broadcastUnavailable(r: BoundResource): void {
  if (!r.available) return;
  r.available = false;
  const out = el("presence", NS.client, { type: "unavailable" });
  for (const w of watchers(r.hub, r.account)) if (w !== r) w.send(stamp(out, r.jid, w.jid));
  sendDirectedUnavailable(r, out);
}

function sendDirectedUnavailable(r: BoundResource, out: Element): void {
  for (const jid of r.directed) deliverPresence(r.hub, jid, stamp(out, r.jid, jid));
  r.directed.clear();
}

/** RFC 6121 §4.6: presence to one entity outside the broadcast. */
function directed(r: BoundResource, p: Element, to: string, unavailableType: boolean): void {
  const j = parseJid(to)!;
  const subscribed = hasFrom(r.account.roster.get(bareOf(j))?.subscription ?? "none");
  if (!subscribed) {
    if (unavailableType) r.directed.delete(to);
    else r.directed.add(to);
  }
  deliverPresence(r.hub, to, stamp(p, r.jid, to));
}

/** To a full JID's resource, or every available resource of a bare JID. */
function deliverPresence(hub: XmppHub, to: string, p: Element): void {
  const j = parseJid(to);
  if (!j) return;
  const a = hub.accounts.get(bareOf(j));
  if (!a) return;
  if (j.resource) {
    const res = a.resources.get(j.resource);
    if (res) res.send(p);
    return;
  }
  for (const res of a.resources.values()) if (res.available) res.send(stamp(p, p.attrs.from!, res.jid));
}

/** Delivers a subscription stanza from bare `from` to every available resource of `to`. */
function toContact(hub: XmppHub, from: string, to: string, type: string): void {
  const a = hub.accounts.get(to);
  if (!a) return;
  const p = el("presence", NS.client, { from, type });
  for (const res of a.resources.values()) if (res.available) res.send(stamp(p, from, res.jid));
}

/** The subscription state machine of RFC 6121 §3 for local users `user` and `contact`. */
function subscription(hub: XmppHub, u: string, contact: string, type: string): void {
  const userRoster = hub.rosterOf(u);
  const contactRoster = hub.rosterOf(contact);
  if (type === "subscribe") {
    const item = userRoster.ensure(contact);
    if (!hasTo(item.subscription) && !item.askSubscribe) {
      item.askSubscribe = true;
      pushRosterItem(hub, u, item);
    }
    if (hasFrom(contactRoster.get(u)?.subscription ?? "none")) {
      // Already approved (RFC 6121 §3.1.3): answer on the contact's behalf.
      subscription(hub, contact, u, "subscribed");
      return;
    }
    contactRoster.pendingIn.set(u, el("presence", NS.client, { from: u, to: contact, type: "subscribe" }));
    hub.saveRoster(contact);
    toContact(hub, u, contact, "subscribe");
  } else if (type === "subscribed") {
    const contactItem = contactRoster.get(u);
    if (!contactRoster.pendingIn.has(u) && !userRoster.pendingIn.has(contact) && !contactItem?.askSubscribe)
      return;
    userRoster.pendingIn.delete(contact);
    const item = userRoster.ensure(contact);
    item.subscription = withFrom(item.subscription, true);
    pushRosterItem(hub, u, item);
    const theirs = contactRoster.ensure(u);
    theirs.subscription = withTo(theirs.subscription, true);
    theirs.askSubscribe = false;
    pushRosterItem(hub, contact, theirs);
    toContact(hub, u, contact, "subscribed");
    // RFC 6121 §3.1.5: the contact now sees the user's current presence
    const ca = hub.accounts.get(contact);
    if (ca) for (const res of ca.resources.values()) if (res.available) sendPresenceOf(hub, u, res);
  } else if (type === "unsubscribe") {
    const item = userRoster.get(contact);
    if (item) {
      item.subscription = withTo(item.subscription, false);
      item.askSubscribe = false;
      pushRosterItem(hub, u, item);
    }
    const theirs = contactRoster.get(u);
    if (theirs) {
      theirs.subscription = withFrom(theirs.subscription, false);
      pushRosterItem(hub, contact, theirs);
    }
    if (contactRoster.pendingIn.delete(u)) hub.saveRoster(contact);
    toContact(hub, u, contact, "unsubscribe");
    sendUnavailableOf(hub, contact, u);
  } else {
    if (userRoster.pendingIn.delete(contact)) hub.saveRoster(u);
    const item = userRoster.get(contact);
    if (item) {
      item.subscription = withFrom(item.subscription, false);
      pushRosterItem(hub, u, item);
    }
    const theirs = contactRoster.get(u);
    if (theirs) {
      theirs.subscription = withTo(theirs.subscription, false);
      theirs.askSubscribe = false;
      pushRosterItem(hub, contact, theirs);
    }
    toContact(hub, u, contact, "unsubscribed");
    sendUnavailableOf(hub, u, contact);
  }
}

/** Roster removal (RFC 6121 §2.5.2): unsubscribe and unsubscribed as the state requires. */
export function cancelSubscriptions(hub: XmppHub, u: string, contact: string, item: RosterItem): void {
  if (hasTo(item.subscription) || item.askSubscribe) subscription(hub, u, contact, "unsubscribe");
  if (hasFrom(item.subscription) || hub.rosterOf(u).pendingIn.has(contact))
    subscription(hub, u, contact, "unsubscribed");
}

/** `watcher` no longer sees `of`'s presence: unavailable from each of `of`'s resources. */
function sendUnavailableOf(hub: XmppHub, of: string, watcher: string): void {
  const from = hub.accounts.get(of);
  const to = hub.accounts.get(watcher);
  if (!from || !to) return;
  for (const src of from.resources.values()) {
    if (!src.available) continue;
    for (const dst of to.resources.values()) {
      if (dst.available)
        dst.send(el("presence", NS.client, { from: src.jid, to: dst.jid, type: "unavailable" }));
    }
  }
}

/** RFC 6121 §4.3: a probe is answered with the contact's presence if the prober may see it. */
function probe(hub: XmppHub, r: BoundResource, contact: string): void {
  if (!hasFrom(hub.rosterOf(contact).get(r.account.bare)?.subscription ?? "none")) return;
  sendPresenceOf(hub, contact, r);
}
