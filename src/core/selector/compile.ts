/**
 * Compiles a selector's syntax tree into nested closures, once per distinct selector text (cached),
 * so a message is tested with plain function calls: no parsing, no regex construction, no
 * allocation per message beyond what the subject's lookups do.
 *
 * Values are numbers, strings, booleans or null (absent or of the wrong type). Conditions use SQL's
 * three-valued logic: null is UNKNOWN, NOT UNKNOWN is UNKNOWN, FALSE AND UNKNOWN is FALSE, TRUE OR
 * UNKNOWN is TRUE; a message matches only when the whole selector is TRUE. Header values are
 * strings in most protocols, so a string that reads as a number compares and computes as that
 * number, and 'true'/'false' compare as booleans (ActiveMQ and Artemis do the same for STOMP).
 */
import { SelectorError } from "./lexer.js";
import { type Node, parseSelector } from "./parser.js";

export type Value = number | string | boolean | null;

/** What a selector reads: the value of an identifier for the message being tested. */
export interface SelectorSubject {
  value(name: string): Value;
}

export interface CompiledSelector {
  readonly source: string;
  matches(subject: SelectorSubject): boolean;
}

type Eval = (s: SelectorSubject) => Value;

const NUMERIC = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function asNumber(v: Value): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return null;
}

function asBoolean(v: Value): boolean | null {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "TRUE") return true;
  if (v === "false" || v === "FALSE") return false;
  return null;
}

function compare(op: string, a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  let x: number | string | boolean;
  let y: number | string | boolean;
  if (typeof a === "number" || typeof b === "number") {
    const nx = asNumber(a);
    const ny = asNumber(b);
    if (nx === null || ny === null) return null;
    x = nx;
    y = ny;
  } else if (typeof a === "boolean" || typeof b === "boolean") {
    const bx = asBoolean(a);
    const by = asBoolean(b);
    if (bx === null || by === null) return null;
    if (op !== "=" && op !== "<>") return null; // booleans have no order
    x = bx;
    y = by;
  } else {
    x = a;
    y = b;
  }
  switch (op) {
    case "=":
      return x === y;
    case "<>":
      return x !== y;
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    default:
      return x >= y;
  }
}

function and(a: Value, b: Value): boolean | null {
  if (a === false || b === false) return false;
  if (a === null || b === null) return null;
  return true;
}

function compileNode(n: Node): Eval {
  switch (n.k) {
    case "lit": {
      const v = n.v;
      return () => v;
    }
    case "id": {
      const name = n.name;
      return (s) => s.value(name);
    }
    case "neg": {
      const e = compileNode(n.e);
      return (s) => {
        const v = asNumber(e(s));
        return v === null ? null : -v;
      };
    }
    case "arith": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      const op = n.op;
      return (s) => {
        const a = asNumber(l(s));
        if (a === null) return null;
        const b = asNumber(r(s));
        if (b === null) return null;
        switch (op) {
          case "+":
            return a + b;
          case "-":
            return a - b;
          case "*":
            return a * b;
          default:
            return b === 0 ? null : a / b;
        }
      };
    }
    case "cmp": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      const op = n.op;
      return (s) => compare(op, l(s), r(s));
    }
    case "between": {
      const e = compileNode(n.e);
      const lo = compileNode(n.lo);
      const hi = compileNode(n.hi);
      const not = n.not;
      return (s) => {
        const v = e(s);
        const r = and(compare(">=", v, lo(s)), compare("<=", v, hi(s)));
        return r === null ? null : r !== not;
      };
    }
    case "in": {
      const e = compileNode(n.e);
      const list = n.list;
      const not = n.not;
      return (s) => {
        const v = e(s);
        if (v === null) return null;
        let unknown = false;
        for (const item of list) {
          const r = compare("=", v, item);
          if (r === true) return !not;
          if (r === null) unknown = true;
        }
        return unknown ? null : not;
      };
    }
    case "like": {
      const e = compileNode(n.e);
      const re = n.re;
      const not = n.not;
      return (s) => {
        const v = e(s);
        if (typeof v !== "string") return null;
        return re.test(v) !== not;
      };
    }
    case "isnull": {
      const e = compileNode(n.e);
      const not = n.not;
      return (s) => (e(s) === null) !== not;
    }
    case "not": {
      const e = compileNode(n.e);
      return (s) => {
        const v = asBoolean(e(s));
        return v === null ? null : !v;
      };
    }
    case "and": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      return (s) => {
        const a = asBoolean(l(s));
        if (a === false) return false;
        return and(a, asBoolean(r(s)));
      };
    }
    case "or": {
      const l = compileNode(n.l);
      const r = compileNode(n.r);
      return (s) => {
        const a = asBoolean(l(s));
        if (a === true) return true;
        const b = asBoolean(r(s));
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
  }
}

/** Longest selector accepted: a filter is configuration, not data. */
export const MAX_SELECTOR_LENGTH = 4096;
const CACHE_LIMIT = 10_000;
const cache = new Map<string, CompiledSelector>();

/**
 * Compiles `source` (cached by its text); throws SelectorError, with the position, when it is not a
 * valid selector, so adapters refuse it at subscribe time with their protocol's error.
 */
export function compileSelector(source: string): CompiledSelector {
  const hit = cache.get(source);
  if (hit) return hit;
  if (source.length > MAX_SELECTOR_LENGTH) {
    throw new SelectorError(`selector longer than ${MAX_SELECTOR_LENGTH} characters`, MAX_SELECTOR_LENGTH);
  }
  const root = compileNode(parseSelector(source));
  const compiled: CompiledSelector = { source, matches: (s) => asBoolean(root(s)) === true };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, compiled);
  return compiled;
}
