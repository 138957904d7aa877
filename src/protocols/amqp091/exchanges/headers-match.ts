/**
 * Headers exchange matching (amqp0-9-1.xml, exchange type "headers"; RabbitMQ's x-match values):
 * `all` (default) / `any` compare the binding's arguments with the message headers, ignoring
 * arguments starting with "x-"; `all-with-x` / `any-with-x` include them. An argument of type void
 * matches when the header is present with any value.
 */
import type { FieldTable, FieldValue } from "../codec/reader.js";

export type XMatch = "all" | "any" | "all-with-x" | "any-with-x";

export function xMatchOf(args: FieldTable): XMatch | undefined {
  const v = args["x-match"];
  if (v === undefined) return "all";
  if (v === "all" || v === "any" || v === "all-with-x" || v === "any-with-x") return v;
  return undefined;
}

export function headersMatch(args: FieldTable, mode: XMatch, headers: FieldTable | undefined): boolean {
  const all = mode === "all" || mode === "all-with-x";
  const withX = mode === "all-with-x" || mode === "any-with-x";
  for (const key of Object.keys(args)) {
    if (key === "x-match") continue;
    if (!withX && key.startsWith("x-")) continue;
    const want = args[key]!;
    const has = headers !== undefined && Object.hasOwn(headers, key);
    const ok = has && (want === null || sameValue(want, headers[key]!));
    if (all && !ok) return false;
    if (!all && ok) return true;
  }
  // all: every considered argument matched (vacuously true with none); any: none matched.
  return all;
}

/** Equality across AMQP's numeric types (an int32 5 equals an int64 5) and of strings and bytes. */
function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  if (typeof a === "bigint" || typeof b === "bigint") return String(a) === String(b);
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  // Headers that crossed another protocol arrive as strings: compare their text.
  if (typeof b === "string" && (typeof a === "number" || typeof a === "boolean")) return String(a) === b;
  return false;
}
