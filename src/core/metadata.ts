/**
 * The common metadata conversions (docs/metadata.md), written once for every adapter: expiry in
 * seconds or milliseconds to and from the core's absolute `expiresAt`, and correlation ids between
 * text (STOMP, AMQP `correlation-id`, XMPP) and bytes (MQTT 5 Correlation Data, the core).
 */
import { isUtf8 } from "node:buffer";

/** `expiresAt` for an expiry interval in seconds from `now` (MQTT 5 Message Expiry Interval, CoAP Max-Age). */
export function expiresAtFromSeconds(seconds: number, now: number): number {
  return now + seconds * 1000;
}

/** `expiresAt` for a time to live in ms from `now` (STOMP/AMQP 0-9-1 `expiration`, AMQP 1.0 ttl). */
export function expiresAtFromMs(ms: number, now: number): number {
  return now + ms;
}

/** Whole seconds left (rounded up, at least 0): what an MQTT 5 forwarder writes ([MQTT-3.3.2-6]). */
export function secondsLeft(expiresAt: number, now: number): number {
  return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}

/** Milliseconds left (at least 0): an `expiration` / ttl written on the way out. */
export function msLeft(expiresAt: number, now: number): number {
  return Math.max(0, expiresAt - now);
}

/**
 * A text correlation id as the core's correlation data: its UTF-8 bytes, except that exactly what
 * correlationIdToText writes for bytes that are not UTF-8 (`base64:` + their canonical Base64) turns
 * back into those bytes. So a STOMP or AMQP 0-9-1 responder that echoes the correlation id of an
 * MQTT 5 request gives the requester its own Correlation Data again. A text that only looks alike
 * (its Base64 decodes to UTF-8, or is not written the canonical way) stays text.
 */
export function correlationIdToBytes(id: string): Buffer {
  if (id.startsWith(BASE64_PREFIX)) {
    const b64 = id.slice(BASE64_PREFIX.length);
    const bytes = Buffer.from(b64, "base64");
    if (!isUtf8(bytes) && bytes.toString("base64") === b64) return bytes;
  }
  return Buffer.from(id, "utf8");
}

const BASE64_PREFIX = "base64:";

/**
 * Correlation data as a text correlation id: its UTF-8 text. Bytes that are not UTF-8 (an MQTT 5
 * publisher may send any) cannot be a header value as they are: they become `base64:` + Base64,
 * so two different ids never read the same.
 */
export function correlationIdToText(data: Buffer): string {
  return isUtf8(data) ? data.toString("utf8") : `${BASE64_PREFIX}${data.toString("base64")}`;
}
