/** Roster management (RFC 6121 §2): get, set (add/update/remove) and pushes to interested resources. */
import { randomBytes } from "node:crypto";
import type { XmppHub } from "../hub.js";
import { bareOf, parseJid } from "../jid.js";
import { NS } from "../namespaces.js";
import type { BoundResource } from "../resource.js";
import { itemElement, type RosterItem } from "../roster.js";
import { errorReply, iqResult } from "../stanza-error.js";
import { type Element, el } from "../xml/element.js";
import { cancelSubscriptions } from "./presence.js";

const MAX_ROSTER_ITEMS = 10_000;

export function handleRoster(r: BoundResource, iq: Element, query: Element): void {
  const roster = r.account.roster;
  if (iq.attr("type") === "get") {
    r.interested = true;
    const q = el("query", NS.roster, { ver: String(roster.version) });
    for (const item of roster.items.values()) q.add(itemElement(item));
    r.send(iqResult(iq, q));
    return;
  }
  // RFC 6121 §2.3.3: exactly one <item/>
  const items = query.elements(NS.roster).filter((e) => e.name === "item");
  const jid = items.length === 1 ? parseJid(items[0]!.attr("jid") ?? "") : undefined;
  if (items.length !== 1 || !jid || jid.resource !== "") {
    r.send(errorReply(iq, "bad-request", "a roster set carries exactly one item with a bare JID"));
    return;
  }
  const item = items[0]!;
  const contact = bareOf(jid);
  if (contact === r.account.bare) {
    r.send(errorReply(iq, "not-allowed", "the user's own JID cannot be a roster item"));
    return;
  }
  if (item.attr("subscription") === "remove") {
    const existing = roster.get(contact);
    if (!existing) {
      r.send(errorReply(iq, "item-not-found"));
      return;
    }
    r.send(iqResult(iq));
    // RFC 6121 §2.5.2: cancel both directions of the subscription, then remove
    cancelSubscriptions(r.hub, r.account.bare, contact, existing);
    roster.items.delete(contact);
    roster.pendingIn.delete(contact);
    pushRosterItem(r.hub, r.account.bare, existing, true); // saves the roster too
    return;
  }
  if (!roster.get(contact) && roster.items.size >= MAX_ROSTER_ITEMS) {
    r.send(errorReply(iq, "not-allowed", "roster size limit reached"));
    return;
  }
  const groups = item
    .elements(NS.roster)
    .filter((g) => g.name === "group")
    .map((g) => g.text());
  if (new Set(groups).size !== groups.length || groups.some((g) => g === "")) {
    r.send(errorReply(iq, "bad-request", "duplicate or empty group"));
    return;
  }
  const target = roster.ensure(contact);
  target.name = item.attr("name") || undefined;
  target.groups = groups;
  r.send(iqResult(iq));
  pushRosterItem(r.hub, r.account.bare, target);
}

/** A roster push (RFC 6121 §2.1.6) to every interested resource of `bare`. */
export function pushRosterItem(hub: XmppHub, bare: string, item: RosterItem, remove = false): void {
  const roster = hub.rosterOf(bare);
  roster.version++;
  hub.saveRoster(bare);
  const account = hub.accounts.get(bare);
  if (!account) return;
  for (const res of account.resources.values()) {
    if (!res.interested) continue;
    const q = el("query", NS.roster, { ver: String(roster.version) }, itemElement(item, remove));
    res.send(
      el("iq", NS.client, { type: "set", id: `push-${randomBytes(6).toString("hex")}`, to: res.jid }, q),
    );
  }
}
