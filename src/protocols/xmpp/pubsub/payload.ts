/**
 * The PubSub item payload <-> core Message mapping (docs/xmpp.md), lossless both ways:
 * - `<json xmlns='urn:xmpp:json:0'>` (XEP-0335): UTF-8 JSON text, content type application/json;
 * - `<payload xmlns='urn:switchboard:payload:0' content-type='..'>text</payload>`: UTF-8 text
 *   (carriage returns and tabs are written as character references so XML parsing keeps them);
 * - `<payload ... encoding='base64'>`: anything else (binary, or text XML 1.0 cannot carry);
 * - any other element: the XML itself (content type application/xml), as ejabberd and Prosody
 *   users publish Atom entries or their own elements.
 */
import { isUtf8 } from "node:buffer";
import type { MessageProperties } from "../../../core/message.js";
import { NS } from "../namespaces.js";
import type { Element } from "../xml/element.js";
import { escapeAttr, toXml } from "../xml/serialize.js";

export const ITEM_ID_PROPERTY = "xmpp-item-id";

export interface CorePayload {
  payload: Buffer;
  properties: MessageProperties;
}

/** The payload of a published <item/>'s child, or undefined when it is malformed. */
export function payloadFromItem(child: Element): CorePayload | undefined {
  if (child.ns === NS.json && child.name === "json") {
    return {
      payload: Buffer.from(child.text(), "utf8"),
      properties: { contentType: "application/json", payloadIsUtf8: true },
    };
  }
  if (child.ns === NS.payload && child.name === "payload") {
    const contentType = child.attr("content-type");
    const encoding = child.attr("encoding");
    if (encoding === "base64") {
      const b64 = child.text().replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
      return { payload: Buffer.from(b64, "base64"), properties: { contentType } };
    }
    if (encoding !== undefined) return undefined;
    return { payload: Buffer.from(child.text(), "utf8"), properties: { contentType, payloadIsUtf8: true } };
  }
  return {
    payload: Buffer.from(toXml(child, ""), "utf8"),
    properties: { contentType: "application/xml", payloadIsUtf8: true },
  };
}

/** Characters XML 1.0 cannot carry at all (§2.2), so such text goes as base64. */
const NOT_XML_CHAR =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text content escaped so that parsing returns it unchanged (\r and \t would be normalized). */
function escapeExact(s: string): string {
  return s.replace(/[&<>\r\t]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\r" ? "&#13;" : "&#9;",
  );
}

/**
 * The item child for a message's payload. `trustedXml`: the payload is XML this adapter wrote
 * itself (an XMPP publisher's element) and may be inlined as it is.
 */
export function itemPayloadXml(payload: Buffer, p: MessageProperties, trustedXml: boolean): string {
  const ct = p.contentType;
  if (trustedXml && ct === "application/xml") return payload.toString("utf8");
  const text = isUtf8(payload) ? payload.toString("utf8") : undefined;
  if (text !== undefined && !NOT_XML_CHAR.test(text)) {
    if (ct === "application/json") return `<json xmlns='${NS.json}'>${escapeExact(text)}</json>`;
    const ctAttr = ct !== undefined ? ` content-type='${escapeAttr(ct)}'` : "";
    return `<payload xmlns='${NS.payload}'${ctAttr}>${escapeExact(text)}</payload>`;
  }
  const ctAttr = ct !== undefined ? ` content-type='${escapeAttr(ct)}'` : "";
  return `<payload xmlns='${NS.payload}'${ctAttr} encoding='base64'>${payload.toString("base64")}</payload>`;
}
