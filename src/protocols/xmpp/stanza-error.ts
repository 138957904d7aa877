/** Stanza errors (RFC 6120 §8.3): the error reply to a stanza, with its condition and type. */
import { NS } from "./namespaces.js";
import { Element, el } from "./xml/element.js";

export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "undefined-condition"
  | "unexpected-request";

/** The error type RFC 6120 §8.3.3 gives each condition. */
const TYPE: Record<StanzaErrorCondition, "auth" | "cancel" | "modify" | "wait"> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  // §8.3.3.21 leaves the type open; used with an application-specific condition, as it asks.
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
};

/**
 * The error reply to `stanza`: same name and id, from/to swapped, type "error" (RFC 6120 §8.3.1).
 * `extra` is an application-specific condition (e.g. a PubSub one, XEP-0060 §7).
 */
export function errorReply(
  stanza: Element,
  condition: StanzaErrorCondition,
  text?: string,
  extra?: Element,
): Element {
  const reply = el(stanza.name, NS.client, {
    type: "error",
    id: stanza.attr("id"),
    from: stanza.attr("to"),
    to: stanza.attr("from"),
  });
  const error = reply.add(el("error", NS.client, { type: TYPE[condition] }, el(condition, NS.stanzas)));
  if (text) error.add(el("text", NS.stanzas, { "xml:lang": "en" }, text));
  if (extra) error.add(extra);
  return reply;
}

/** The result reply to an iq (RFC 6120 §8.2.3), with an optional payload. */
export function iqResult(iq: Element, payload?: Element): Element {
  const reply = new Element("iq", NS.client, { type: "result" });
  const id = iq.attr("id");
  if (id !== undefined) reply.attrs.id = id;
  const from = iq.attr("to");
  if (from !== undefined) reply.attrs.from = from;
  const to = iq.attr("from");
  if (to !== undefined) reply.attrs.to = to;
  if (payload) reply.add(payload);
  return reply;
}
