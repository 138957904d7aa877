/**
 * A user's roster (RFC 6121 §2) and the subscription states of its items (§3, Appendix A): none,
 * to, from, both, with a pending outbound request (ask="subscribe") and pending inbound requests
 * kept until the user answers them.
 */
import { NS } from "./namespaces.js";
import { Element, el } from "./xml/element.js";

export type Subscription = "none" | "to" | "from" | "both";

export interface RosterItem {
  jid: string;
  name?: string;
  subscription: Subscription;
  /** A subscription request we sent and that is not answered yet. */
  askSubscribe: boolean;
  groups: string[];
}

export class Roster {
  readonly items = new Map<string, RosterItem>();
  /** Contacts that asked to see our presence and got no answer yet (bare JID -> their stanza). */
  readonly pendingIn = new Map<string, Element>();
  /** Roster version (RFC 6121 §2.6): bumped on every change. */
  version = 0;

  get(jid: string): RosterItem | undefined {
    return this.items.get(jid);
  }

  /** The item for `jid`, created with subscription none when absent. */
  ensure(jid: string): RosterItem {
    let item = this.items.get(jid);
    if (!item) {
      item = { jid, subscription: "none", askSubscribe: false, groups: [] };
      this.items.set(jid, item);
    }
    return item;
  }

  /** Contacts that may see our presence (subscription from or both). */
  *presenceSubscribers(): Iterable<string> {
    for (const i of this.items.values())
      if (i.subscription === "from" || i.subscription === "both") yield i.jid;
  }

  /** Contacts whose presence we may see (subscription to or both). */
  *presenceSubscriptions(): Iterable<string> {
    for (const i of this.items.values())
      if (i.subscription === "to" || i.subscription === "both") yield i.jid;
  }
}

export function hasFrom(s: Subscription): boolean {
  return s === "from" || s === "both";
}

export function hasTo(s: Subscription): boolean {
  return s === "to" || s === "both";
}

export function withFrom(s: Subscription, on: boolean): Subscription {
  const to = hasTo(s);
  return on ? (to ? "both" : "from") : to ? "to" : "none";
}

export function withTo(s: Subscription, on: boolean): Subscription {
  const from = hasFrom(s);
  return on ? (from ? "both" : "to") : from ? "from" : "none";
}

/** <item/> of a roster result or push; subscription "remove" for a removed item. */
export function itemElement(item: RosterItem, remove = false): Element {
  const e = el("item", NS.roster, {
    jid: item.jid,
    name: item.name,
    subscription: remove ? "remove" : item.subscription,
    ask: !remove && item.askSubscribe ? "subscribe" : undefined,
  });
  if (!remove) for (const g of item.groups) e.add(new Element("group", NS.roster).addText(g));
  return e;
}
