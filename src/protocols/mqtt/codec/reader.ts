import { isUtf8 } from "node:buffer";
import { malformed } from "./errors.js";

/**
 * Bounds-checked cursor over one packet's bytes [pos, end). Every read past `end` is a Malformed
 * Packet: a field that claims more bytes than the Remaining Length holds.
 * Binary fields and payloads are returned as views (subarray), never copied.
 */
export class Reader {
  constructor(
    public buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  /** Points this reader at another packet (the decoder reuses one reader: decoding is synchronous). */
  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get left(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) throw malformed(`${what} runs past the end of the packet`);
  }

  u8(what = "byte"): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = "two byte integer"): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what = "four byte integer"): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Variable Byte Integer (§1.5.5): at most 4 bytes, minimal encoding [MQTT-1.5.5-1]. */
  vbi(what = "variable byte integer"): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8(what);
      value += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw malformed(`[MQTT-1.5.5-1] ${what} is not minimally encoded`);
        return value;
      }
      mul *= 128;
    }
    throw malformed(`${what} is longer than 4 bytes`);
  }

  /** UTF-8 Encoded String (§1.5.4): well-formed [MQTT-1.5.4-1], no U+0000 [MQTT-1.5.4-2]. */
  string(what = "string"): string {
    const len = this.u16(what);
    this.need(len, what);
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    const buf = this.buf;
    // ASCII fast path (most topics and client ids): one pass checks both rules, no view allocated.
    let i = start;
    while (i < end) {
      const c = buf[i]!;
      if (c === 0) throw malformed(`[MQTT-1.5.4-2] ${what} contains U+0000`);
      if (c >= 0x80) break;
      i++;
    }
    if (i < end) {
      const view = buf.subarray(start, end);
      if (!isUtf8(view)) throw malformed(`[MQTT-1.5.4-1] ${what} is not well-formed UTF-8`);
      if (view.indexOf(0) !== -1) throw malformed(`[MQTT-1.5.4-2] ${what} contains U+0000`);
    }
    return buf.toString("utf8", start, end);
  }

  /** Binary Data (§1.5.6): two-byte length then bytes, returned as a view. */
  binary(what = "binary data"): Buffer {
    const len = this.u16(what);
    this.need(len, what);
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, this.pos);
  }

  /** Everything up to the end of the packet, as a view (PUBLISH payload, reason code lists). */
  rest(): Buffer {
    const view = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return view;
  }

  /** Fields must consume the packet exactly where nothing may follow them. */
  done(what: string): void {
    if (this.pos !== this.end)
      throw malformed(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}
