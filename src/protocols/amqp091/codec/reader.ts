/**
 * Reads AMQP 0-9-1 domain types from one frame payload (§4.2.5). Every read is bounds-checked: a
 * short payload throws FRAME_ERROR (501), a malformed field table SYNTAX_ERROR (502).
 */
import { ReplyCode } from "./constants.js";
import { AmqpError } from "./errors.js";

export type FieldValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | null
  | FieldValue[]
  | { [key: string]: FieldValue };

export type FieldTable = { [key: string]: FieldValue };

/**
 * Sets a table entry whatever its name: a key "__proto__" from the wire must become an own entry,
 * never the object's prototype.
 */
export function setField(table: FieldTable, key: string, value: FieldValue): void {
  if (key === "__proto__")
    Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
  else table[key] = value;
}

export class Reader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.offset = start;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) throw new AmqpError(ReplyCode.FrameError, "frame payload too short");
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  octet(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  short(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  long(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A 64-bit unsigned integer as a number (delivery tags and body sizes stay far below 2^53). */
  longlong(): number {
    this.need(8);
    const hi = this.buf.readUInt32BE(this.offset);
    const lo = this.buf.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  shortstr(): string {
    const n = this.octet();
    this.need(n);
    const s = this.buf.toString("utf8", this.offset, this.offset + n);
    this.offset += n;
    return s;
  }

  longstrBytes(): Buffer {
    const n = this.long();
    this.need(n);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  longstr(): string {
    return this.longstrBytes().toString("utf8");
  }

  table(): FieldTable {
    const n = this.long();
    this.need(n);
    const end = this.offset + n;
    const out: FieldTable = {};
    while (this.offset < end) {
      const key = this.shortstr();
      setField(out, key, this.fieldValue());
    }
    if (this.offset !== end) throw new AmqpError(ReplyCode.SyntaxError, "field table overruns its size");
    return out;
  }

  private array(): FieldValue[] {
    const n = this.long();
    this.need(n);
    const end = this.offset + n;
    const out: FieldValue[] = [];
    while (this.offset < end) out.push(this.fieldValue());
    if (this.offset !== end) throw new AmqpError(ReplyCode.SyntaxError, "field array overruns its size");
    return out;
  }

  /** One typed field value; type letters as RabbitMQ and the 0-9-1 errata define them. */
  fieldValue(): FieldValue {
    const type = this.octet();
    const b = this.buf;
    switch (type) {
      case 0x74: // t boolean
        return this.octet() !== 0;
      case 0x62: // b int8
        this.need(1);
        return b.readInt8(this.offset++);
      case 0x42: // B uint8
        return this.octet();
      case 0x73: {
        // s int16
        this.need(2);
        const v = b.readInt16BE(this.offset);
        this.offset += 2;
        return v;
      }
      case 0x75: // u uint16
        return this.short();
      case 0x49: {
        // I int32
        this.need(4);
        const v = b.readInt32BE(this.offset);
        this.offset += 4;
        return v;
      }
      case 0x69: // i uint32
        return this.long();
      case 0x6c: {
        // l int64: a number when it is exact, else a bigint
        this.need(8);
        const v = b.readBigInt64BE(this.offset);
        this.offset += 8;
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0x66: {
        // f float
        this.need(4);
        const v = b.readFloatBE(this.offset);
        this.offset += 4;
        return v;
      }
      case 0x64: {
        // d double
        this.need(8);
        const v = b.readDoubleBE(this.offset);
        this.offset += 8;
        return v;
      }
      case 0x44: {
        // D decimal: scale octet, int32 value
        const scale = this.octet();
        this.need(4);
        const v = b.readInt32BE(this.offset);
        this.offset += 4;
        return v / 10 ** scale;
      }
      case 0x53: // S long string
        return this.longstr();
      case 0x78: // x byte array
        return Buffer.from(this.longstrBytes());
      case 0x41: // A array
        return this.array();
      case 0x54: // T timestamp (seconds)
        return this.longlong();
      case 0x46: // F nested table
        return this.table();
      case 0x56: // V void
        return null;
      default:
        throw new AmqpError(ReplyCode.SyntaxError, `unknown field type 0x${type.toString(16)}`);
    }
  }
}
