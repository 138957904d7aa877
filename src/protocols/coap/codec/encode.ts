/**
 * Encoder: CoapMessage parts -> bytes (RFC 7252 §3). Options are written in the order given,
 * which must be ascending by number (the caller builds them so; sortOptions helps otherwise).
 */
import type { MessageType } from "./constants.js";
import type { CoapOption } from "./message.js";

/** Bytes an option takes after an option numbered `prev`. */
export function optionSize(prev: number, o: CoapOption): number {
  return 1 + extSize(o.number - prev) + extSize(o.value.length) + o.value.length;
}

function extSize(n: number): number {
  return n < 13 ? 0 : n < 269 ? 1 : 2;
}

function nibble(n: number): number {
  return n < 13 ? n : n < 269 ? 13 : 14;
}

/** Writes options (ascending) starting after option number `prev`; returns the new position. */
export function writeOptions(buf: Buffer, pos: number, prev: number, options: readonly CoapOption[]): number {
  for (const o of options) {
    const delta = o.number - prev;
    const len = o.value.length;
    buf[pos++] = (nibble(delta) << 4) | nibble(len);
    pos = writeExt(buf, pos, delta);
    pos = writeExt(buf, pos, len);
    o.value.copy(buf, pos);
    pos += len;
    prev = o.number;
  }
  return pos;
}

function writeExt(buf: Buffer, pos: number, n: number): number {
  if (n >= 269) {
    buf.writeUInt16BE(n - 269, pos);
    return pos + 2;
  }
  if (n >= 13) buf[pos++] = n - 13;
  return pos;
}

export function optionsSize(prev: number, options: readonly CoapOption[]): number {
  let size = 0;
  for (const o of options) {
    size += optionSize(prev, o);
    prev = o.number;
  }
  return size;
}

export function encodeMessage(
  type: MessageType,
  code: number,
  mid: number,
  token: Buffer,
  options: readonly CoapOption[],
  payload?: Buffer,
): Buffer {
  const plen = payload && payload.length > 0 ? payload.length : 0;
  const size = 4 + token.length + optionsSize(0, options) + (plen > 0 ? 1 + plen : 0);
  const buf = Buffer.allocUnsafe(size);
  writeHeader(buf, type, code, mid, token);
  let pos = writeOptions(buf, 4 + token.length, 0, options);
  if (plen > 0) {
    buf[pos++] = 0xff;
    payload!.copy(buf, pos);
  }
  return buf;
}

export function writeHeader(buf: Buffer, type: MessageType, code: number, mid: number, token: Buffer): void {
  buf[0] = 0x40 | (type << 4) | token.length;
  buf[1] = code;
  buf[2] = (mid >> 8) & 0xff;
  buf[3] = mid & 0xff;
  token.copy(buf, 4);
}

/** An Empty message: ACK or RST (RFC 7252 §4.1). */
export function encodeEmpty(type: MessageType, mid: number): Buffer {
  return Buffer.from([0x40 | (type << 4), 0, (mid >> 8) & 0xff, mid & 0xff]);
}

/** Stable sort by option number (repeated options keep their order). */
export function sortOptions(options: CoapOption[]): CoapOption[] {
  return options.sort((a, b) => a.number - b.number);
}
