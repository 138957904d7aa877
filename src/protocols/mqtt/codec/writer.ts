import { MqttCodecError } from "./errors.js";
import { MAX_STRING_BYTES } from "./utf8.js";

/** Largest Remaining Length a four-byte Variable Byte Integer can carry (§1.5.5). */
export const MAX_VBI = 268_435_455;

export function vbiSize(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Bytes a UTF-8 Encoded String takes on the wire, length prefix included. */
export function stringSize(s: string): number {
  return 2 + Buffer.byteLength(s, "utf8");
}

/**
 * Cursor over a Buffer allocated once at the exact packet size. Sizes are computed first, so writes
 * need no bounds checks beyond the ones Buffer itself does.
 */
export class Writer {
  pos = 0;
  readonly buf: Buffer;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  vbi(n: number): void {
    if (n > MAX_VBI || n < 0)
      throw new MqttCodecError(0x95, `value ${n} does not fit a variable byte integer`);
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      this.buf[this.pos++] = b;
    } while (n > 0);
  }

  string(s: string): void {
    // Write the bytes after the prefix, then fill the prefix in: one pass over the string.
    const len = this.buf.write(s, this.pos + 2, "utf8");
    if (len > MAX_STRING_BYTES) throw new MqttCodecError(0x81, "string longer than 65535 bytes");
    this.u16(len);
    this.pos += len;
  }

  binary(b: Buffer): void {
    if (b.length > MAX_STRING_BYTES) throw new MqttCodecError(0x81, "binary data longer than 65535 bytes");
    this.u16(b.length);
    this.bytes(b);
  }

  bytes(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** Fixed header: type/flags byte and Remaining Length. */
  header(byte1: number, remaining: number): void {
    this.u8(byte1);
    this.vbi(remaining);
  }
}

/** Allocates a writer for a packet whose body is `remaining` bytes and writes its fixed header. */
export function startPacket(byte1: number, remaining: number): Writer {
  if (remaining > MAX_VBI) throw new MqttCodecError(0x95, `packet body of ${remaining} bytes is too large`);
  const w = new Writer(1 + vbiSize(remaining) + remaining);
  w.header(byte1, remaining);
  return w;
}
