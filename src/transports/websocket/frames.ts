/**
 * RFC 6455 frame constants and the frames a server writes: data frame headers (unmasked, final,
 * §5.1 and §5.2), and the control frames ping answers and closing handshakes need (§5.5). Shared by
 * the decoder (frame-decoder.ts), the connection (message-socket.ts) and the WAMP transport, which
 * writes data frames itself (src/protocols/wamp/transport.ts).
 */
import { isUtf8 } from "node:buffer";
import type { FrameHeaders } from "../tick-frame-writer.js";

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Close codes this implementation sends (RFC 6455 §7.4.1). */
export const CloseCode = {
  NORMAL: 1000,
  PROTOCOL_ERROR: 1002,
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
} as const;

/**
 * Whether a peer may send `code` in a close frame: the codes of RFC 6455 §7.4.1 and the IANA registry
 * (1000-1003, 1007-1014) and those for libraries and applications (3000-4999). 1004 is reserved;
 * 1005, 1006 and 1015 stand for "no code", "no close frame" and "TLS failure" and never go on the wire.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Writes an unmasked, final frame header at `at`; returns where the payload starts. */
export function writeFrameHeader(b: Buffer, at: number, byte0: number, n: number): number {
  b[at] = byte0;
  if (n < 126) {
    b[at + 1] = n;
    return at + 2;
  }
  if (n < 65536) {
    b[at + 1] = 126;
    b.writeUInt16BE(n, at + 2);
    return at + 4;
  }
  b[at + 1] = 127;
  b.writeUInt32BE(Math.floor(n / 2 ** 32), at + 2);
  b.writeUInt32BE(n >>> 0, at + 6);
  return at + 10;
}

/** The header length of an unmasked frame with an `n`-byte payload. */
export function frameHeaderLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/**
 * Server data frames for a TickFrameWriter: unmasked (§5.1), unfragmented; the kind is FIN + opcode
 * (0x81 text, 0x82 binary).
 */
export const DATA_FRAME_HEADERS: FrameHeaders = { length: frameHeaderLength, write: writeFrameHeader };

/** A whole control frame (payload at most 125 bytes, §5.5). */
export function controlFrame(opcode: number, payload: Buffer): Buffer {
  const f = Buffer.allocUnsafe(2 + payload.length);
  f.set(payload, writeFrameHeader(f, 0, 0x80 | opcode, payload.length));
  return f;
}

/**
 * A close frame (§5.5.1): no payload when `code` is undefined, else the code and as much of `reason`
 * as fits in 123 bytes without cutting a UTF-8 sequence.
 */
export function closeFrame(code: number | undefined, reason = ""): Buffer {
  if (code === undefined) return controlFrame(Opcode.CLOSE, Buffer.alloc(0));
  let text = Buffer.from(reason);
  if (text.length > 123) {
    let end = 123;
    while (end > 0 && !isUtf8(text.subarray(0, end))) end--;
    text = text.subarray(0, end);
  }
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  payload.set(text, 2);
  return controlFrame(Opcode.CLOSE, payload);
}
