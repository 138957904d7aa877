/**
 * The AMQP 1.0 type system (OASIS AMQP 1.0 part 1, §1.6): every primitive type, described types,
 * lists, maps and arrays, as typed values. A value keeps its AMQP type so a decode/encode round trip
 * is exact (a uint stays a uint, a symbol stays a symbol).
 */

export type NumberType = "ubyte" | "ushort" | "uint" | "byte" | "short" | "int" | "float" | "double" | "char";
export type BigType = "ulong" | "long" | "timestamp";
export type BytesType = "decimal32" | "decimal64" | "decimal128" | "uuid" | "binary";
export type TextType = "string" | "symbol";

export type AmqpValue =
  | { type: "null" }
  | { type: "boolean"; value: boolean }
  | { type: NumberType; value: number }
  | { type: BigType; value: bigint }
  | { type: BytesType; value: Buffer }
  | { type: TextType; value: string }
  | { type: "list"; value: AmqpValue[] }
  | { type: "map"; value: Array<[AmqpValue, AmqpValue]> }
  | ArrayValue
  | Described;

export interface Described {
  type: "described";
  descriptor: AmqpValue;
  value: AmqpValue;
}

/** Every element has `elementType` (and, for described elements, the same descriptor). */
export interface ArrayValue {
  type: "array";
  elementType: AmqpTypeName;
  value: AmqpValue[];
}

export type AmqpTypeName = AmqpValue["type"];

/** Fixed byte sizes of the fixed-width byte-valued types. */
export const BYTES_SIZE: Record<BytesType, number> = {
  decimal32: 4,
  decimal64: 8,
  decimal128: 16,
  uuid: 16,
  binary: -1,
};

// ---- constructors (short, as they appear throughout the adapter) ------------------------------

export const NULL: AmqpValue = Object.freeze({ type: "null" }) as AmqpValue;
export const TRUE: AmqpValue = Object.freeze({ type: "boolean", value: true }) as AmqpValue;
export const FALSE: AmqpValue = Object.freeze({ type: "boolean", value: false }) as AmqpValue;
export const bool = (v: boolean): AmqpValue => (v ? TRUE : FALSE);
export const ubyte = (value: number): AmqpValue => ({ type: "ubyte", value });
export const ushort = (value: number): AmqpValue => ({ type: "ushort", value });
export const uint = (value: number): AmqpValue => ({ type: "uint", value });
export const int = (value: number): AmqpValue => ({ type: "int", value });
export const ulong = (value: number | bigint): AmqpValue => ({ type: "ulong", value: BigInt(value) });
export const long = (value: number | bigint): AmqpValue => ({ type: "long", value: BigInt(value) });
export const timestamp = (ms: number): AmqpValue => ({ type: "timestamp", value: BigInt(Math.trunc(ms)) });
export const str = (value: string): AmqpValue => ({ type: "string", value });
export const sym = (value: string): AmqpValue => ({ type: "symbol", value });
export const bin = (value: Buffer): AmqpValue => ({ type: "binary", value });
export const list = (value: AmqpValue[]): AmqpValue => ({ type: "list", value });
export const map = (value: Array<[AmqpValue, AmqpValue]>): AmqpValue => ({ type: "map", value });
export const described = (code: number, value: AmqpValue): Described => ({
  type: "described",
  descriptor: ulong(code),
  value,
});
export const symArray = (names: string[]): AmqpValue => ({
  type: "array",
  elementType: "symbol",
  value: names.map(sym),
});

// ---- readers for decoded fields ----------------------------------------------------------------

/** The numeric code of a described value's descriptor (ulong), or undefined (symbolic descriptor). */
export function descriptorCode(d: Described): number | undefined {
  return d.descriptor.type === "ulong" ? Number(d.descriptor.value) : undefined;
}

export function isNull(v: AmqpValue | undefined): boolean {
  return v === undefined || v.type === "null";
}

/** An unsigned or signed integer field as a number; undefined when absent/null; NaN when of another type. */
export function numberOf(v: AmqpValue | undefined): number | undefined {
  if (v === undefined || v.type === "null") return undefined;
  switch (v.type) {
    case "ubyte":
    case "ushort":
    case "uint":
    case "byte":
    case "short":
    case "int":
      return v.value;
    case "ulong":
    case "long":
    case "timestamp":
      return Number(v.value);
    default:
      return Number.NaN;
  }
}

export function boolOf(v: AmqpValue | undefined): boolean | undefined {
  if (v === undefined || v.type === "null") return undefined;
  return v.type === "boolean" ? v.value : undefined;
}

/** A string or symbol field. */
export function textOf(v: AmqpValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.type === "string" || v.type === "symbol" ? v.value : undefined;
}

/** A symbol field that may be a single symbol or an array of them ("multiple" fields). */
export function symbolsOf(v: AmqpValue | undefined): string[] {
  if (v === undefined || v.type === "null") return [];
  if (v.type === "symbol") return [v.value];
  if (v.type === "array") return v.value.map((e) => textOf(e) ?? "");
  return [];
}

/** The map entries whose keys are symbols or strings. */
export function mapEntries(v: AmqpValue | undefined): Array<[string, AmqpValue]> {
  if (v === undefined || v.type !== "map") return [];
  const out: Array<[string, AmqpValue]> = [];
  for (const [k, val] of v.value) {
    const key = textOf(k);
    if (key !== undefined) out.push([key, val]);
  }
  return out;
}

/** A JSON-friendly plain rendering of a value (for message bodies shown to other protocols). */
export function plain(v: AmqpValue): unknown {
  switch (v.type) {
    case "null":
      return null;
    case "ulong":
    case "long":
    case "timestamp": {
      const n = Number(v.value);
      return Number.isSafeInteger(n) ? n : v.value.toString();
    }
    case "decimal32":
    case "decimal64":
    case "decimal128":
    case "binary":
      return v.value.toString("base64");
    case "uuid":
      return formatUuid(v.value);
    case "list":
    case "array":
      return v.value.map(plain);
    case "map": {
      const o: Record<string, unknown> = {};
      for (const [k, val] of v.value) o[String(plain(k))] = plain(val);
      return o;
    }
    case "described":
      return plain(v.value);
    case "char":
      return String.fromCodePoint(v.value);
    default:
      return v.value;
  }
}

export function formatUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
