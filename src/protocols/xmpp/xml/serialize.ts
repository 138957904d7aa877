/**
 * Element -> XML text. Namespaces are written as default-namespace declarations (`xmlns='...'`)
 * wherever an element's namespace differs from its parent's, so the output is well-formed whatever
 * prefixes the sender used.
 */
import { Element } from "./element.js";

const RAW_NS = "urn:switchboard:raw-xml";

/** An already-serialized, well-formed fragment to embed in a tree (written as it is). */
export function rawXml(xml: string): Element {
  return new Element("raw", RAW_NS, { xml });
}

const TEXT_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, "'": "&apos;", '"': "&quot;" };

export function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => TEXT_ESCAPES[c]!) : s;
}

export function escapeAttr(s: string): string {
  return /[&<>'"]/.test(s) ? s.replace(/[&<>'"]/g, (c) => ATTR_ESCAPES[c]!) : s;
}

/** Serializes `e`; `parentNs` is the default namespace in scope (omit the xmlns when equal). */
export function toXml(e: Element, parentNs = ""): string {
  if (e.ns === RAW_NS) return e.attrs.xml!;
  let s = `<${e.name}`;
  if (e.ns !== parentNs) s += ` xmlns='${escapeAttr(e.ns)}'`;
  for (const k in e.attrs) s += ` ${k}='${escapeAttr(e.attrs[k]!)}'`;
  if (e.children.length === 0) return `${s}/>`;
  s += ">";
  for (const c of e.children) s += typeof c === "string" ? escapeText(c) : toXml(c, e.ns);
  return `${s}</${e.name}>`;
}
