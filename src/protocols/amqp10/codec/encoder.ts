/**
 * AMQP 1.0 type encoder (part 1 §1.6). Picks the compact encodings where one exists (uint0,
 * smalluint, list0, str8 ...); array elements share one constructor, so they use the widest one the
 * elements need.
 */
import type { AmqpTypeName, AmqpValue, ArrayValue } from "./types.js";

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32At(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** A copy of what was written. */
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of what was written (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  value(v: AmqpValue): void {
    encodeValue(this, v);
  }
}

export function encode(v: AmqpValue): Buffer {
  const w = new Writer();
  encodeValue(w, v);
  return w.result();
}

function encodeValue(w: Writer, v: AmqpValue): void {
  switch (v.type) {
    case "null":
      w.u8(0x40);
      return;
    case "boolean":
      w.u8(v.value ? 0x41 : 0x42);
      return;
    case "ubyte":
      w.u8(0x50);
      w.u8(v.value & 0xff);
      return;
    case "byte":
      w.ensure(2);
      w.buf[w.pos++] = 0x51;
      w.buf.writeInt8(v.value, w.pos++);
      return;
    case "ushort":
      w.ensure(3);
      w.buf[w.pos] = 0x60;
      w.buf.writeUInt16BE(v.value, w.pos + 1);
      w.pos += 3;
      return;
    case "short":
      w.ensure(3);
      w.buf[w.pos] = 0x61;
      w.buf.writeInt16BE(v.value, w.pos + 1);
      w.pos += 3;
      return;
    case "uint":
      if (v.value === 0) w.u8(0x43);
      else if (v.value < 256) {
        w.u8(0x52);
        w.u8(v.value);
      } else fixed32(w, 0x70, v.value, false);
      return;
    case "int":
      if (v.value >= -128 && v.value <= 127) {
        w.ensure(2);
        w.buf[w.pos++] = 0x54;
        w.buf.writeInt8(v.value, w.pos++);
      } else fixed32(w, 0x71, v.value, true);
      return;
    case "char":
      fixed32(w, 0x73, v.value, false);
      return;
    case "float":
      w.ensure(5);
      w.buf[w.pos] = 0x72;
      w.buf.writeFloatBE(v.value, w.pos + 1);
      w.pos += 5;
      return;
    case "double":
      w.ensure(9);
      w.buf[w.pos] = 0x82;
      w.buf.writeDoubleBE(v.value, w.pos + 1);
      w.pos += 9;
      return;
    case "ulong":
      if (v.value === 0n) w.u8(0x44);
      else if (v.value < 256n) {
        w.u8(0x53);
        w.u8(Number(v.value));
      } else fixed64(w, 0x80, v.value, false);
      return;
    case "long":
      if (v.value >= -128n && v.value <= 127n) {
        w.ensure(2);
        w.buf[w.pos++] = 0x55;
        w.buf.writeInt8(Number(v.value), w.pos++);
      } else fixed64(w, 0x81, v.value, true);
      return;
    case "timestamp":
      fixed64(w, 0x83, v.value, true);
      return;
    case "decimal32":
      w.u8(0x74);
      w.bytes(v.value);
      return;
    case "decimal64":
      w.u8(0x84);
      w.bytes(v.value);
      return;
    case "decimal128":
      w.u8(0x94);
      w.bytes(v.value);
      return;
    case "uuid":
      w.u8(0x98);
      w.bytes(v.value);
      return;
    case "binary":
      variable(w, 0xa0, 0xb0, v.value);
      return;
    case "string":
      variable(w, 0xa1, 0xb1, Buffer.from(v.value, "utf8"));
      return;
    case "symbol":
      variable(w, 0xa3, 0xb3, Buffer.from(v.value, "ascii"));
      return;
    case "list":
      encodeList(w, v.value);
      return;
    case "map":
      encodeMap(w, v.value);
      return;
    case "array":
      encodeArray(w, v);
      return;
    case "described":
      w.u8(0x00);
      encodeValue(w, v.descriptor);
      encodeValue(w, v.value);
      return;
  }
}

function fixed32(w: Writer, code: number, value: number, signed: boolean): void {
  w.ensure(5);
  w.buf[w.pos] = code;
  if (signed) w.buf.writeInt32BE(value, w.pos + 1);
  else w.buf.writeUInt32BE(value, w.pos + 1);
  w.pos += 5;
}

function fixed64(w: Writer, code: number, value: bigint, signed: boolean): void {
  w.ensure(9);
  w.buf[w.pos] = code;
  if (signed) w.buf.writeBigInt64BE(value, w.pos + 1);
  else w.buf.writeBigUInt64BE(value, w.pos + 1);
  w.pos += 9;
}

function variable(w: Writer, small: number, large: number, b: Buffer): void {
  if (b.length < 256) {
    w.ensure(2 + b.length);
    w.buf[w.pos++] = small;
    w.buf[w.pos++] = b.length;
  } else {
    w.ensure(5 + b.length);
    w.buf[w.pos] = large;
    w.buf.writeUInt32BE(b.length, w.pos + 1);
    w.pos += 5;
  }
  b.copy(w.buf, w.pos);
  w.pos += b.length;
}

/** Writes a compound: list8 when it fits, list32 otherwise (the size is patched afterwards). */
function compound(w: Writer, code8: number, code32: number, count: number, body: () => void): void {
  w.ensure(9);
  const start = w.pos;
  w.buf[w.pos] = code32;
  w.pos += 9;
  body();
  const size = w.pos - start - 5; // bytes after the size field: count + elements
  const elems = size - 4;
  if (elems + 1 < 256 && count < 256) {
    // Shrink to the 8-bit form: move the elements 6 bytes back.
    w.buf[start] = code8;
    w.buf[start + 1] = elems + 1;
    w.buf[start + 2] = count;
    w.buf.copy(w.buf, start + 3, start + 9, w.pos);
    w.pos -= 6;
  } else {
    w.buf.writeUInt32BE(size, start + 1);
    w.buf.writeUInt32BE(count, start + 5);
  }
}

export function encodeList(w: Writer, items: AmqpValue[]): void {
  if (items.length === 0) {
    w.u8(0x45);
    return;
  }
  compound(w, 0xc0, 0xd0, items.length, () => {
    for (const it of items) encodeValue(w, it);
  });
}

function encodeMap(w: Writer, entries: Array<[AmqpValue, AmqpValue]>): void {
  compound(w, 0xc1, 0xd1, entries.length * 2, () => {
    for (const [k, v] of entries) {
      encodeValue(w, k);
      encodeValue(w, v);
    }
  });
}

/** The one constructor every element of an array is written with. */
function arrayConstructor(t: AmqpTypeName, items: AmqpValue[]): number {
  switch (t) {
    case "null":
      return 0x40;
    case "boolean":
      return 0x56;
    case "ubyte":
      return 0x50;
    case "byte":
      return 0x51;
    case "ushort":
      return 0x60;
    case "short":
      return 0x61;
    case "uint":
      return 0x70;
    case "int":
      return 0x71;
    case "char":
      return 0x73;
    case "float":
      return 0x72;
    case "double":
      return 0x82;
    case "ulong":
      return 0x80;
    case "long":
      return 0x81;
    case "timestamp":
      return 0x83;
    case "decimal32":
      return 0x74;
    case "decimal64":
      return 0x84;
    case "decimal128":
      return 0x94;
    case "uuid":
      return 0x98;
    case "binary":
    case "string":
    case "symbol": {
      const long = items.some((i) => byteLength(i) > 255);
      const base = t === "binary" ? 0xa0 : t === "string" ? 0xa1 : 0xa3;
      return long ? base + 0x10 : base;
    }
    case "list":
      return 0xd0;
    case "map":
      return 0xd1;
    case "array":
      return 0xf0;
    case "described":
      return 0x00;
  }
}

function byteLength(v: AmqpValue): number {
  if (v.type === "binary") return v.value.length;
  if (v.type === "string") return Buffer.byteLength(v.value, "utf8");
  if (v.type === "symbol") return v.value.length;
  return 0;
}

function encodeArray(w: Writer, a: ArrayValue): void {
  compound(w, 0xe0, 0xf0, a.value.length, () => {
    let elems = a.value;
    let elemType = a.elementType;
    if (elemType === "described") {
      const first = a.value[0];
      if (first === undefined || first.type !== "described")
        throw new Error("array of described needs an element");
      w.u8(0x00);
      encodeValue(w, first.descriptor);
      elems = a.value.map((e) => (e as { value: AmqpValue }).value);
      elemType = first.value.type;
    }
    const code = arrayConstructor(elemType, elems);
    w.u8(code);
    for (const e of elems) encodeElement(w, code, e);
  });
}

/** An array element: its value without the constructor. */
function encodeElement(w: Writer, code: number, v: AmqpValue): void {
  const start = w.pos;
  switch (code) {
    case 0x40:
      return;
    case 0x56:
      w.u8((v as { value: boolean }).value ? 1 : 0);
      return;
    case 0xd0:
    case 0xd1:
    case 0xf0: {
      // Encode as a standalone 32-bit compound, then drop its constructor byte.
      const tmp = new Writer(64);
      if (code === 0xd0) encodeList32(tmp, (v as { value: AmqpValue[] }).value);
      else if (code === 0xd1) {
        const entries = (v as { value: Array<[AmqpValue, AmqpValue]> }).value;
        encodeCompound32(tmp, 0xd1, entries.length * 2, () => {
          for (const [k, val] of entries) {
            encodeValue(tmp, k);
            encodeValue(tmp, val);
          }
        });
      } else encodeArray32(tmp, v as ArrayValue);
      w.bytes(tmp.view().subarray(1));
      return;
    }
    case 0xa0:
    case 0xa1:
    case 0xa3:
    case 0xb0:
    case 0xb1:
    case 0xb3: {
      const b =
        v.type === "binary"
          ? v.value
          : Buffer.from((v as { value: string }).value, v.type === "symbol" ? "ascii" : "utf8");
      if (code < 0xb0) {
        w.u8(b.length);
      } else {
        w.ensure(4);
        w.buf.writeUInt32BE(b.length, w.pos);
        w.pos += 4;
      }
      w.bytes(b);
      return;
    }
    default: {
      // Fixed width: encode with the full-width constructor, drop it.
      const tmp = new Writer(16);
      encodeFixedFull(tmp, code, v);
      w.bytes(tmp.view().subarray(1));
      void start;
    }
  }
}

function encodeFixedFull(w: Writer, code: number, v: AmqpValue): void {
  switch (code) {
    case 0x70:
      fixed32(w, 0x70, (v as { value: number }).value, false);
      return;
    case 0x71:
      fixed32(w, 0x71, (v as { value: number }).value, true);
      return;
    case 0x80:
      fixed64(w, 0x80, (v as { value: bigint }).value, false);
      return;
    case 0x81:
      fixed64(w, 0x81, (v as { value: bigint }).value, true);
      return;
    default:
      encodeValue(w, v);
  }
}

function encodeCompound32(w: Writer, code: number, count: number, body: () => void): void {
  w.ensure(9);
  const start = w.pos;
  w.buf[w.pos] = code;
  w.pos += 9;
  body();
  w.buf.writeUInt32BE(w.pos - start - 5, start + 1);
  w.buf.writeUInt32BE(count, start + 5);
}

function encodeList32(w: Writer, items: AmqpValue[]): void {
  encodeCompound32(w, 0xd0, items.length, () => {
    for (const it of items) encodeValue(w, it);
  });
}

function encodeArray32(w: Writer, a: ArrayValue): void {
  const tmp = new Writer(64);
  encodeArray(tmp, a);
  const b = tmp.view();
  if (b[0] === 0xf0) {
    w.bytes(b);
    return;
  }
  // Re-frame an array8 as array32.
  const count = b[2]!;
  const body = b.subarray(3);
  w.ensure(9 + body.length);
  w.buf[w.pos] = 0xf0;
  w.buf.writeUInt32BE(body.length + 4, w.pos + 1);
  w.buf.writeUInt32BE(count, w.pos + 5);
  w.pos += 9;
  w.bytes(body);
}
