/**
 * Decoder: one datagram -> CoapMessage (RFC 7252 §3). Pure; the payload and option values are
 * views into the datagram. A message format error reports what header fields could be read, so
 * the caller can reject a confirmable message with a Reset (RFC 7252 §4.2) or drop it.
 */
import { COAP_VERSION, codeClass, type MessageType } from "./constants.js";
import type { CoapMessage, CoapOption } from "./message.js";

export type DecodeResult =
  | { ok: true; message: CoapMessage }
  /**
   * `header` is set when the 4-byte header was readable with version 1: the caller may answer
   * a CON with a Reset carrying `mid`. Without it, the datagram is silently ignored (§3: wrong
   * version; shorter than a header).
   */
  | { ok: false; error: string; header?: { type: MessageType; mid: number } };

export function decodeMessage(buf: Buffer): DecodeResult {
  if (buf.length < 4) return { ok: false, error: "shorter than the 4-byte header" };
  const b0 = buf[0]!;
  // RFC 7252 §3: messages with unknown version numbers MUST be silently ignored.
  if (b0 >> 6 !== COAP_VERSION) return { ok: false, error: "unknown version" };
  const type = ((b0 >> 4) & 3) as MessageType;
  const tkl = b0 & 0x0f;
  const c = buf[1]!;
  const mid = (buf[2]! << 8) | buf[3]!;
  // RFC 7252 §3: token lengths 9-15 are reserved and are a message format error.
  if (tkl > 8) return formatError("token length 9-15 is reserved", type, mid);
  if (4 + tkl > buf.length) return formatError("truncated token", type, mid);
  const cls = codeClass(c);
  // Classes 1, 6 and 7 are reserved (RFC 7252 §12.1).
  if (cls === 1 || cls === 6 || cls === 7) return formatError("reserved code class", type, mid);
  const token = buf.subarray(4, 4 + tkl);
  const options: CoapOption[] = [];
  let pos = 4 + tkl;
  let number = 0;
  let payload: Buffer = EMPTY;
  while (pos < buf.length) {
    const byte = buf[pos++]!;
    if (byte === 0xff) {
      // RFC 7252 §3: a payload marker followed by a zero-length payload is a format error.
      if (pos === buf.length) return formatError("payload marker without payload", type, mid);
      payload = buf.subarray(pos);
      break;
    }
    let delta = byte >> 4;
    let length = byte & 0x0f;
    if (delta === 15 || length === 15) return formatError("option nibble 15 is reserved", type, mid);
    if (delta === 13) {
      if (pos >= buf.length) return formatError("truncated option delta", type, mid);
      delta = buf[pos++]! + 13;
    } else if (delta === 14) {
      if (pos + 1 >= buf.length) return formatError("truncated option delta", type, mid);
      delta = ((buf[pos]! << 8) | buf[pos + 1]!) + 269;
      pos += 2;
    }
    if (length === 13) {
      if (pos >= buf.length) return formatError("truncated option length", type, mid);
      length = buf[pos++]! + 13;
    } else if (length === 14) {
      if (pos + 1 >= buf.length) return formatError("truncated option length", type, mid);
      length = ((buf[pos]! << 8) | buf[pos + 1]!) + 269;
      pos += 2;
    }
    if (pos + length > buf.length) return formatError("truncated option value", type, mid);
    number += delta;
    if (number > 0xffff) return formatError("option number over 65535", type, mid);
    options.push({ number, value: buf.subarray(pos, pos + length) });
    pos += length;
  }
  // RFC 7252 §4.1: an Empty message (0.00) has no token, options or payload.
  if (c === 0 && (tkl !== 0 || buf.length !== 4)) {
    return formatError("empty message with token, options or payload", type, mid);
  }
  return { ok: true, message: { type, code: c, mid, token, options, payload } };
}

const EMPTY = Buffer.alloc(0);

/** A format error after a readable header (built only then: a well-formed message costs no header object). */
function formatError(error: string, type: MessageType, mid: number): DecodeResult {
  return { ok: false, error, header: { type, mid } };
}
