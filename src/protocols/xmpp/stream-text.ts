/**
 * The fixed XML of a stream: headers, features, stream errors (RFC 6120 §4) in both framings, TCP
 * (<stream:stream>) and WebSocket (RFC 7395 <open/> / <close/>).
 */
import { NS } from "./namespaces.js";
import { escapeAttr, escapeText } from "./xml/serialize.js";

export type StreamErrorCondition =
  | "bad-format"
  | "bad-namespace-prefix"
  | "conflict"
  | "connection-timeout"
  | "host-unknown"
  | "internal-server-error"
  | "invalid-namespace"
  | "invalid-xml"
  | "not-authorized"
  | "not-well-formed"
  | "policy-violation"
  | "reset"
  | "restricted-xml"
  | "system-shutdown"
  | "undefined-condition"
  | "unsupported-encoding"
  | "unsupported-stanza-type"
  | "unsupported-version";

export function streamHeader(framed: boolean, id: string, domain: string): string {
  const common = `id='${escapeAttr(id)}' from='${escapeAttr(domain)}' version='1.0' xml:lang='en'`;
  if (framed) return `<open xmlns='${NS.framing}' ${common}/>`;
  return `<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' ${common}>`;
}

export function streamFooter(framed: boolean): string {
  return framed ? `<close xmlns='${NS.framing}'/>` : "</stream:stream>";
}

/** <stream:features> with the given inner XML. */
export function features(framed: boolean, inner: string): string {
  const decl = framed ? ` xmlns:stream='${NS.stream}'` : "";
  return `<stream:features${decl}>${inner}</stream:features>`;
}

export function streamError(framed: boolean, condition: StreamErrorCondition, text?: string): string {
  const decl = framed ? ` xmlns:stream='${NS.stream}'` : "";
  const t = text ? `<text xmlns='${NS.streams}' xml:lang='en'>${escapeText(text)}</text>` : "";
  return `<stream:error${decl}><${condition} xmlns='${NS.streams}'/>${t}</stream:error>`;
}
