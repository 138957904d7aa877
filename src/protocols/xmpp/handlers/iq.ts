/**
 * <iq/> (RFC 6120 §8.2.3): requests to the server (roster, disco, ping, version, session), to the
 * PubSub service and the device directory, or routed to another user's resource.
 */
import { bareOf, parseJid } from "../jid.js";
import { NS } from "../namespaces.js";
import type { BoundResource } from "../resource.js";
import { errorReply, iqResult } from "../stanza-error.js";
import { type Element, el } from "../xml/element.js";
import { serverDiscoInfo, serverDiscoItems } from "./disco.js";
import { handleRoster } from "./roster.js";
import { handleRpcCall } from "./rpc.js";

const TYPES = new Set(["get", "set", "result", "error"]);

export function handleIq(r: BoundResource, iq: Element): void {
  const hub = r.hub;
  const type = iq.attr("type") ?? "";
  iq.attrs.from = r.jid;
  if (!TYPES.has(type) || iq.attr("id") === undefined) {
    r.send(errorReply(iq, "bad-request", "an iq needs an id and a type of get, set, result or error"));
    return;
  }
  const request = type === "get" || type === "set";
  const payload = iq.firstElement();
  // RFC 6120 §8.2.3: a get or set carries exactly one child
  if (request && (!payload || iq.elements().length !== 1)) {
    r.send(errorReply(iq, "bad-request", "a get or set iq carries exactly one element"));
    return;
  }
  const toAttr = iq.attr("to");
  const to = toAttr === undefined ? undefined : parseJid(toAttr);
  if (toAttr !== undefined && !to) {
    if (request) r.send(errorReply(iq, "jid-malformed"));
    return;
  }
  if (
    !to ||
    (to.local === "" && to.domain === hub.options.domain) ||
    (to.resource === "" && bareOf(to) === r.account.bare)
  ) {
    if (request) serverIq(r, iq, payload!, to === undefined || to.local !== "");
    return;
  }
  if (to.domain === hub.pubsubDomain && to.local === "") {
    if (request) hub.pubsub.handleIq(r, iq, payload!);
    return;
  }
  if (to.domain === hub.directoryDomain) {
    if (request) hub.directory.handleIq(r, iq, payload!, to);
    return;
  }
  if (to.domain !== hub.options.domain) {
    if (request) r.send(errorReply(iq, "remote-server-not-found"));
    return;
  }
  // Another user: a full JID is routed; a bare JID is answered by the server on its behalf (RFC 6121 §8.5.1).
  const target = to.resource ? hub.resourceOf(bareOf(to), to.resource) : undefined;
  if (target) target.send(iq);
  else if (request) r.send(errorReply(iq, "service-unavailable"));
}

/** An iq the server answers; `ownAccount` = addressed to the user's bare JID (or without 'to'). */
function serverIq(r: BoundResource, iq: Element, payload: Element, ownAccount: boolean): void {
  const get = iq.attr("type") === "get";
  switch (payload.ns) {
    case NS.roster:
      if (payload.name === "query") return handleRoster(r, iq, payload);
      break;
    case NS.discoInfo:
      if (get && payload.name === "query")
        return r.send(iqResult(iq, serverDiscoInfo(r.hub, payload, ownAccount)));
      break;
    case NS.discoItems:
      if (get && payload.name === "query")
        return r.send(iqResult(iq, serverDiscoItems(r.hub, payload, ownAccount)));
      break;
    case NS.ping:
      if (get && payload.name === "ping") return r.send(iqResult(iq));
      break;
    case NS.session:
      // RFC 3921 session establishment: nothing to do any more (RFC 6121 Appendix E)
      if (!get && payload.name === "session") return r.send(iqResult(iq));
      break;
    case NS.version:
      if (get && payload.name === "query") {
        const q = el("query", NS.version, {}, el("name", NS.version, {}, "Switchboard"));
        return r.send(iqResult(iq, q));
      }
      break;
    case NS.rpc:
      // Calls go to the server itself (no 'to', or the domain), not to the user's own bare JID.
      if (!get && payload.name === "call" && !isAccountAddress(iq)) return handleRpcCall(r, iq, payload);
      break;
    case NS.bind:
      return r.send(errorReply(iq, "not-allowed", "a resource is already bound"));
  }
  r.send(errorReply(iq, "service-unavailable"));
}

function isAccountAddress(iq: Element): boolean {
  const to = iq.attr("to");
  return to !== undefined && parseJid(to)?.local !== "";
}
