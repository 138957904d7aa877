/**
 * CoAP Content-Format numbers (RFC 7252 §12.3, IANA registry) <-> the core's contentType string
 * (docs/coap.md). A number without a media type here travels as the user property
 * "coap-content-format" so a CoAP reader still gets it back.
 */
import type { MessageProperties } from "../../core/message.js";

const BY_NUMBER = new Map<number, string>([
  [0, "text/plain; charset=utf-8"],
  [16, "application/cose; cose-type=cose-encrypt0"],
  [40, "application/link-format"],
  [41, "application/xml"],
  [42, "application/octet-stream"],
  [47, "application/exi"],
  [50, "application/json"],
  [51, "application/json-patch+json"],
  [52, "application/merge-patch+json"],
  [60, "application/cbor"],
  [61, "application/cwt"],
  [110, "application/senml+json"],
  [111, "application/sensml+json"],
  [112, "application/senml+cbor"],
  [113, "application/sensml+cbor"],
  [11542, "application/vnd.oma.lwm2m+tlv"],
  [11543, "application/vnd.oma.lwm2m+json"],
]);

const BY_TYPE = new Map<string, number>();
for (const [n, t] of BY_NUMBER) BY_TYPE.set(t, n);
// Common spellings of the same media types.
BY_TYPE.set("text/plain", 0);
BY_TYPE.set("text/plain;charset=utf-8", 0);
BY_TYPE.set("text/plain; charset=UTF-8", 0);

export const CONTENT_FORMAT_PROPERTY = "coap-content-format";

export function contentTypeOf(format: number): string | undefined {
  return BY_NUMBER.get(format);
}

/** The message properties for a CoAP payload of `format` (undefined = no Content-Format). */
export function propertiesFor(format: number | undefined): MessageProperties | undefined {
  if (format === undefined) return undefined;
  const contentType = BY_NUMBER.get(format);
  if (contentType === undefined) return { userProperties: [[CONTENT_FORMAT_PROPERTY, String(format)]] };
  return format === 0 ? { contentType, payloadIsUtf8: true } : { contentType };
}

/** The Content-Format number of a core message, or undefined when it has none CoAP knows. */
export function formatOf(p: MessageProperties): number | undefined {
  const t = p.contentType;
  if (t !== undefined) {
    const n = BY_TYPE.get(t) ?? BY_TYPE.get(t.split(";", 1)[0]!.trim().toLowerCase());
    if (n !== undefined) return n;
  }
  const up = p.userProperties;
  if (up !== undefined) {
    for (const [k, v] of up) {
      if (k === CONTENT_FORMAT_PROPERTY) {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 0 && n <= 0xffff) return n;
      }
    }
  }
  // MQTT 5 payload format indicator 1 without a content type: UTF-8 text.
  if (t === undefined && p.payloadIsUtf8) return 0;
  return undefined;
}
