/** <message/> routing (RFC 6121 §8.5): to a full JID, to a bare JID's resources, or to offline storage. */
import type { XmppHub } from "../hub.js";
import { bareOf, type Jid, parseJid } from "../jid.js";
import type { BoundResource } from "../resource.js";
import { errorReply } from "../stanza-error.js";
import type { Element } from "../xml/element.js";

export function handleMessage(r: BoundResource, m: Element): void {
  const hub = r.hub;
  m.attrs.from = r.jid; // RFC 6120 §8.1.2.1: the server stamps the sender's full JID
  const toAttr = m.attr("to");
  const to = toAttr === undefined ? parseJid(r.account.bare) : parseJid(toAttr);
  if (!to) {
    r.send(errorReply(m, "jid-malformed"));
    return;
  }
  if (to.domain !== hub.options.domain) {
    if (m.attr("type") === "error") return;
    const local = to.domain === hub.pubsubDomain || to.domain === hub.directoryDomain;
    r.send(errorReply(m, local ? "service-unavailable" : "remote-server-not-found"));
    return;
  }
  if (to.local === "") return; // a message to the server itself: nothing to do with it (RFC 6120 §10.3)
  deliverMessage(hub, to, m);
}

/** Delivers to the addressed resource, else to the bare JID's available resources, else offline. */
export function deliverMessage(hub: XmppHub, to: Jid, m: Element): void {
  const bare = bareOf(to);
  const account = hub.accounts.get(bare);
  const type = m.attr("type") ?? "normal";
  if (to.resource !== "") {
    const res = account?.resources.get(to.resource);
    if (res) {
      res.send(m);
      return;
    }
    // RFC 6121 §8.5.3.2: no such resource: chat and normal go to the bare JID, the rest is dropped
    if (type !== "chat" && type !== "normal") {
      if (type === "groupchat") hub.bounce(m, "service-unavailable");
      return;
    }
  }
  if (type === "groupchat") {
    hub.bounce(m, "service-unavailable");
    return;
  }
  let delivered = false;
  if (account) {
    for (const res of account.availableResources()) {
      res.send(m);
      delivered = true;
    }
  }
  // XEP-0160: chat and normal messages to an unavailable user wait in storage; headline and error
  // messages are transient (RFC 6121 §8.5.2.2).
  if (!delivered && (type === "chat" || type === "normal")) hub.offline.store(bare, m);
}
