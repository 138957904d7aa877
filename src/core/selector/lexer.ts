/**
 * Tokens of the selector language (docs/filters.md): SQL-92 conditional
 * expressions as JMS message selectors define them. Keywords are case-insensitive; identifiers are
 * case-sensitive; string literals are in single quotes with '' for a quote.
 */

export type Token =
  | { t: "num"; v: number; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "id"; v: string; at: number }
  | { t: "kw"; v: Keyword; at: number }
  | { t: "op"; v: Operator; at: number }
  | { t: "end"; at: number };

export type Keyword =
  | "AND"
  | "OR"
  | "NOT"
  | "BETWEEN"
  | "IN"
  | "LIKE"
  | "ESCAPE"
  | "IS"
  | "NULL"
  | "TRUE"
  | "FALSE";

export type Operator = "=" | "<>" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "(" | ")" | ",";

const KEYWORDS = new Set<string>([
  "AND",
  "OR",
  "NOT",
  "BETWEEN",
  "IN",
  "LIKE",
  "ESCAPE",
  "IS",
  "NULL",
  "TRUE",
  "FALSE",
]);

export class SelectorError extends Error {
  constructor(
    message: string,
    /** Character offset in the selector where the problem is. */
    readonly at: number,
  ) {
    super(`${message} at position ${at + 1}`);
    this.name = "SelectorError";
  }
}

const isIdStart = (c: string): boolean => /[A-Za-z_$]/.test(c);
const isIdPart = (c: string): boolean => /[A-Za-z0-9_$.]/.test(c);
const isDigit = (c: string): boolean => c >= "0" && c <= "9";

/** Splits a selector into tokens; throws SelectorError on a character that starts no token. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new SelectorError("unterminated string literal", at);
        const d = src[i]!;
        if (d === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += d;
        i++;
      }
      out.push({ t: "str", v: s, at });
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(src[i + 1] ?? ""))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      const text = m[0];
      // JMS allows a trailing L/l on exact numerics and F/f/D/d on approximate ones.
      const suffix = src[i + text.length];
      i += text.length;
      if (suffix !== undefined && /[lLfFdD]/.test(suffix) && !isIdPart(src[i + 1] ?? " ")) i++;
      else if (suffix !== undefined && isIdStart(suffix)) throw new SelectorError("malformed number", at);
      out.push({ t: "num", v: Number(text), at });
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < src.length && isIdPart(src[j]!)) j++;
      const word = src.slice(i, j);
      i = j;
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) out.push({ t: "kw", v: upper as Keyword, at });
      else {
        if (word.endsWith(".") || word.includes(".."))
          throw new SelectorError(`malformed identifier ${word}`, at);
        out.push({ t: "id", v: word, at });
      }
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === "<>" || two === "<=" || two === ">=") {
      out.push({ t: "op", v: two, at });
      i += 2;
      continue;
    }
    if (two === "!=") {
      // Not SQL-92, but common enough (Artemis accepts it) to read as <> rather than refuse.
      out.push({ t: "op", v: "<>", at });
      i += 2;
      continue;
    }
    if ("=<>+-*/(),".includes(c)) {
      out.push({ t: "op", v: c as Operator, at });
      i++;
      continue;
    }
    throw new SelectorError(`unexpected character ${JSON.stringify(c)}`, at);
  }
  out.push({ t: "end", at: src.length });
  return out;
}
