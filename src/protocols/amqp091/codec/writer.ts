/** Writes AMQP 0-9-1 domain types into a growable buffer (§4.2.5). */
import type { FieldTable, FieldValue } from "./reader.js";

export class Writer {
  buf: Buffer;
  offset = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.offset + n));
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  octet(v: number): void {
    this.ensure(1);
    this.buf[this.offset++] = v;
  }

  short(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
  }

  long(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.offset);
    this.offset += 4;
  }

  longlong(v: number): void {
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000) >>> 0, this.offset);
    this.buf.writeUInt32BE(v >>> 0, this.offset + 4);
    this.offset += 8;
  }

  /** At most 255 bytes: longer text is cut at a byte boundary (reply texts are built by us). */
  shortstr(s: string): void {
    const n = Math.min(Buffer.byteLength(s), 255);
    this.ensure(1 + Buffer.byteLength(s));
    this.buf[this.offset] = n;
    this.buf.write(s, this.offset + 1, n, "utf8");
    this.offset += 1 + n;
  }

  longstr(s: string | Buffer): void {
    const b = typeof s === "string" ? Buffer.from(s) : s;
    this.long(b.length);
    this.bytes(b);
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.offset);
    this.offset += b.length;
  }

  table(t: FieldTable | undefined): void {
    const at = this.offset;
    this.long(0);
    if (t) {
      for (const key of Object.keys(t)) {
        const v = t[key];
        if (v === undefined) continue;
        this.shortstr(key);
        this.fieldValue(v);
      }
    }
    this.buf.writeUInt32BE(this.offset - at - 4, at);
  }

  fieldValue(v: FieldValue): void {
    if (typeof v === "string") {
      this.octet(0x53);
      this.longstr(v);
    } else if (typeof v === "boolean") {
      this.octet(0x74);
      this.octet(v ? 1 : 0);
    } else if (typeof v === "number") {
      if (Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff) {
        this.octet(0x49);
        this.ensure(4);
        this.buf.writeInt32BE(v, this.offset);
        this.offset += 4;
      } else if (Number.isSafeInteger(v)) {
        this.int64(BigInt(v));
      } else {
        this.octet(0x64);
        this.ensure(8);
        this.buf.writeDoubleBE(v, this.offset);
        this.offset += 8;
      }
    } else if (typeof v === "bigint") {
      this.int64(v);
    } else if (v === null) {
      this.octet(0x56);
    } else if (Buffer.isBuffer(v)) {
      this.octet(0x78);
      this.longstr(v);
    } else if (Array.isArray(v)) {
      this.octet(0x41);
      const at = this.offset;
      this.long(0);
      for (const item of v) this.fieldValue(item);
      this.buf.writeUInt32BE(this.offset - at - 4, at);
    } else {
      this.octet(0x46);
      this.table(v);
    }
  }

  private int64(v: bigint): void {
    this.octet(0x6c);
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.offset);
    this.offset += 8;
  }

  /** The bytes written so far (a view; copy if the writer is reused). */
  result(): Buffer {
    return this.buf.subarray(0, this.offset);
  }
}
