import { isUtf8 } from "node:buffer";

/**
 * True when `buf` is well-formed UTF-8 (no overlongs, no surrogates: [MQTT-1.5.4-1]).
 * node:buffer's isUtf8 (simdutf, Node >= 18.14) is far faster than decoding and looking for U+FFFD.
 * The broker uses it to check payloads sent with Payload Format Indicator 1 (reason code 0x99).
 */
export function isValidUtf8(buf: Buffer): boolean {
  return isUtf8(buf);
}

/** Largest value a two-byte length prefix can carry (§1.5.4, §1.5.6). */
export const MAX_STRING_BYTES = 0xffff;
