/** The decoded form of one CoAP datagram (RFC 7252 §3). */
import type { MessageType } from "./constants.js";

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  type: MessageType;
  code: number;
  mid: number;
  token: Buffer;
  /** In ascending option-number order, repeated options in wire order. */
  options: CoapOption[];
  /** Empty when there is no payload. A view into the datagram (no copy). */
  payload: Buffer;
}

export function findOption(m: CoapMessage, number: number): Buffer | undefined {
  for (const o of m.options) {
    if (o.number === number) return o.value;
    if (o.number > number) return undefined;
  }
  return undefined;
}

export function findOptions(m: CoapMessage, number: number): Buffer[] {
  const out: Buffer[] = [];
  for (const o of m.options) {
    if (o.number === number) out.push(o.value);
    else if (o.number > number) break;
  }
  return out;
}

/** Unsigned integer option value: big-endian, leading zeros may be omitted (RFC 7252 §3.2). */
export function readUint(b: Buffer): number {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
}

/** Shortest big-endian form of `v` (0 is the empty value). */
export function uintBytes(v: number): Buffer {
  if (v === 0) return Buffer.alloc(0);
  if (v < 0x100) return Buffer.from([v]);
  if (v < 0x10000) return Buffer.from([v >> 8, v & 0xff]);
  if (v < 0x1000000) return Buffer.from([v >> 16, (v >> 8) & 0xff, v & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function uintOption(number: number, v: number): CoapOption {
  return { number, value: uintBytes(v) };
}

export function stringOption(number: number, s: string): CoapOption {
  return { number, value: Buffer.from(s, "utf8") };
}
