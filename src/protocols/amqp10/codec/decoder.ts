/**
 * AMQP 1.0 type decoder (part 1 §1.6). Reads typed values from a Buffer; every read is bounds
 * checked and a malformed encoding throws DecodeError (the connection closes with amqp:decode-error).
 */
import type { AmqpTypeName, AmqpValue, Described } from "./types.js";

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** Deepest nesting of compounds and described values accepted (a bound against stack exhaustion). */
const MAX_DEPTH = 64;

export class Reader {
  pos: number;
  private depth = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new DecodeError("truncated encoding");
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private take(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Reads one value with its constructor. */
  read(): AmqpValue {
    const code = this.u8();
    if (code === 0x00) return this.described();
    return this.readWith(code);
  }

  private described(): Described {
    if (++this.depth > MAX_DEPTH) throw new DecodeError("nesting too deep");
    const descriptor = this.read();
    if (descriptor.type !== "ulong" && descriptor.type !== "symbol") {
      throw new DecodeError(`descriptor must be a ulong or a symbol, not ${descriptor.type}`);
    }
    const value = this.read();
    this.depth--;
    return { type: "described", descriptor, value };
  }

  /** Reads the value of constructor `code` (0x00 excluded). */
  private readWith(code: number): AmqpValue {
    const b = this.buf;
    switch (code) {
      case 0x40:
        return { type: "null" };
      case 0x41:
        return { type: "boolean", value: true };
      case 0x42:
        return { type: "boolean", value: false };
      case 0x56: {
        const v = this.u8();
        if (v > 1) throw new DecodeError("boolean must be 0 or 1");
        return { type: "boolean", value: v === 1 };
      }
      case 0x50:
        return { type: "ubyte", value: this.u8() };
      case 0x51:
        this.need(1);
        return { type: "byte", value: b.readInt8(this.pos++) };
      case 0x60:
        this.need(2);
        this.pos += 2;
        return { type: "ushort", value: b.readUInt16BE(this.pos - 2) };
      case 0x61:
        this.need(2);
        this.pos += 2;
        return { type: "short", value: b.readInt16BE(this.pos - 2) };
      case 0x70:
        return { type: "uint", value: this.u32() };
      case 0x52:
        return { type: "uint", value: this.u8() };
      case 0x43:
        return { type: "uint", value: 0 };
      case 0x71:
        this.need(4);
        this.pos += 4;
        return { type: "int", value: b.readInt32BE(this.pos - 4) };
      case 0x54:
        this.need(1);
        return { type: "int", value: b.readInt8(this.pos++) };
      case 0x73: {
        const cp = this.u32();
        if (cp > 0x10ffff) throw new DecodeError("char out of the Unicode range");
        return { type: "char", value: cp };
      }
      case 0x72:
        this.need(4);
        this.pos += 4;
        return { type: "float", value: b.readFloatBE(this.pos - 4) };
      case 0x82:
        this.need(8);
        this.pos += 8;
        return { type: "double", value: b.readDoubleBE(this.pos - 8) };
      case 0x80:
        this.need(8);
        this.pos += 8;
        return { type: "ulong", value: b.readBigUInt64BE(this.pos - 8) };
      case 0x53:
        return { type: "ulong", value: BigInt(this.u8()) };
      case 0x44:
        return { type: "ulong", value: 0n };
      case 0x81:
        this.need(8);
        this.pos += 8;
        return { type: "long", value: b.readBigInt64BE(this.pos - 8) };
      case 0x55:
        this.need(1);
        return { type: "long", value: BigInt(b.readInt8(this.pos++)) };
      case 0x83:
        this.need(8);
        this.pos += 8;
        return { type: "timestamp", value: b.readBigInt64BE(this.pos - 8) };
      case 0x74:
        return { type: "decimal32", value: Buffer.from(this.take(4)) };
      case 0x84:
        return { type: "decimal64", value: Buffer.from(this.take(8)) };
      case 0x94:
        return { type: "decimal128", value: Buffer.from(this.take(16)) };
      case 0x98:
        return { type: "uuid", value: Buffer.from(this.take(16)) };
      case 0xa0:
        return { type: "binary", value: this.take(this.u8()) };
      case 0xb0:
        return { type: "binary", value: this.take(this.u32()) };
      case 0xa1:
        return { type: "string", value: this.utf8(this.u8()) };
      case 0xb1:
        return { type: "string", value: this.utf8(this.u32()) };
      case 0xa3:
        return { type: "symbol", value: this.ascii(this.u8()) };
      case 0xb3:
        return { type: "symbol", value: this.ascii(this.u32()) };
      case 0x45:
        return { type: "list", value: [] };
      case 0xc0:
      case 0xd0:
        return { type: "list", value: this.compound(code === 0xd0, false) as AmqpValue[] };
      case 0xc1:
      case 0xd1: {
        const items = this.compound(code === 0xd1, false) as AmqpValue[];
        if (items.length % 2 !== 0) throw new DecodeError("map with an odd number of elements");
        const entries: Array<[AmqpValue, AmqpValue]> = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
        return { type: "map", value: entries };
      }
      case 0xe0:
      case 0xf0:
        return this.array(code === 0xf0);
      default:
        throw new DecodeError(`unknown type constructor 0x${code.toString(16).padStart(2, "0")}`);
    }
  }

  private utf8(n: number): string {
    const b = this.take(n);
    // Fast path: ASCII needs no validation.
    const s = b.toString("utf8");
    if (s.includes("\ufffd") && !Buffer.from(s, "utf8").equals(b))
      throw new DecodeError("invalid UTF-8 in string");
    return s;
  }

  private ascii(n: number): string {
    const b = this.take(n);
    for (let i = 0; i < b.length; i++) if (b[i]! > 0x7f) throw new DecodeError("symbol is not ASCII");
    return b.toString("latin1");
  }

  /** The elements of a list/map: size, count, then `count` values. */
  private compound(wide: boolean, _array: boolean): AmqpValue[] {
    const size = wide ? this.u32() : this.u8();
    if (size < (wide ? 4 : 1)) throw new DecodeError("compound size too small for its count");
    this.need(size);
    const end = this.pos + size;
    const count = wide ? this.u32() : this.u8();
    if (count > size) throw new DecodeError("compound count larger than its size");
    if (++this.depth > MAX_DEPTH) throw new DecodeError("nesting too deep");
    const out: AmqpValue[] = new Array(count);
    const inner = new Reader(this.buf, this.pos, end);
    inner.depth = this.depth;
    for (let i = 0; i < count; i++) out[i] = inner.read();
    if (inner.pos !== end) throw new DecodeError("compound size does not match its elements");
    this.pos = end;
    this.depth--;
    return out;
  }

  private array(wide: boolean): AmqpValue {
    const size = wide ? this.u32() : this.u8();
    this.need(size);
    const end = this.pos + size;
    const count = wide ? this.u32() : this.u8();
    if (count > size * 8 + 8) throw new DecodeError("array count larger than its size");
    if (++this.depth > MAX_DEPTH) throw new DecodeError("nesting too deep");
    const inner = new Reader(this.buf, this.pos, end);
    inner.depth = this.depth;
    let descriptor: AmqpValue | undefined;
    let code = inner.u8();
    if (code === 0x00) {
      descriptor = inner.read();
      code = inner.u8();
    }
    if (code === 0x00) throw new DecodeError("array element constructor is described twice");
    const out: AmqpValue[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const v = inner.element(code);
      out[i] = descriptor ? { type: "described", descriptor, value: v } : v;
    }
    if (inner.pos !== end) throw new DecodeError("array size does not match its elements");
    this.pos = end;
    this.depth--;
    const elementType: AmqpTypeName = descriptor ? "described" : constructorType(code);
    return { type: "array", elementType, value: out };
  }

  /** One array element: the shared constructor's value, with no constructor byte of its own. */
  private element(code: number): AmqpValue {
    // Constant-valued constructors have no data: in an array, 0x40 is the null element; 0x41, 0x42,
    // 0x43, 0x44, 0x45 each stand for their constant.
    return this.readWith(code);
  }
}

function constructorType(code: number): AmqpTypeName {
  const t = TYPE_OF[code];
  if (t === undefined) throw new DecodeError(`unknown type constructor 0x${code.toString(16)}`);
  return t;
}

const TYPE_OF: Record<number, AmqpTypeName> = {
  64: "null",
  65: "boolean",
  66: "boolean",
  86: "boolean",
  80: "ubyte",
  81: "byte",
  96: "ushort",
  97: "short",
  112: "uint",
  82: "uint",
  67: "uint",
  113: "int",
  84: "int",
  115: "char",
  114: "float",
  130: "double",
  128: "ulong",
  83: "ulong",
  68: "ulong",
  129: "long",
  85: "long",
  131: "timestamp",
  116: "decimal32",
  132: "decimal64",
  148: "decimal128",
  152: "uuid",
  160: "binary",
  176: "binary",
  161: "string",
  177: "string",
  163: "symbol",
  179: "symbol",
  69: "list",
  192: "list",
  208: "list",
  193: "map",
  209: "map",
  224: "array",
  240: "array",
};

/** Decodes exactly one value filling `buf`. */
export function decode(buf: Buffer): AmqpValue {
  const r = new Reader(buf);
  const v = r.read();
  if (r.pos !== buf.length) throw new DecodeError("trailing bytes after the value");
  return v;
}
