/**
 * Selector syntax tree and its recursive-descent parser. Precedence, lowest first: OR, AND, NOT,
 * predicates (comparison, [NOT] BETWEEN, [NOT] IN, [NOT] LIKE [ESCAPE], IS [NOT] NULL), + -, * /,
 * unary + -. The parser also checks that conditions and values are where they belong, so
 * `a + 1` as a whole selector or `a AND 3` are refused at subscribe time, not at the first message.
 */
import { type Keyword, type Operator, SelectorError, type Token, tokenize } from "./lexer.js";

export type Literal = number | string | boolean;

export type Node =
  | { k: "lit"; v: Literal }
  | { k: "id"; name: string }
  | { k: "neg"; e: Node }
  | { k: "arith"; op: "+" | "-" | "*" | "/"; l: Node; r: Node }
  | { k: "cmp"; op: "=" | "<>" | "<" | ">" | "<=" | ">="; l: Node; r: Node }
  | { k: "between"; e: Node; lo: Node; hi: Node; not: boolean }
  | { k: "in"; e: Node; list: Literal[]; not: boolean }
  | { k: "like"; e: Node; re: RegExp; not: boolean }
  | { k: "isnull"; e: Node; not: boolean }
  | { k: "not"; e: Node }
  | { k: "and" | "or"; l: Node; r: Node };

/** Nodes whose value is a truth value (TRUE, FALSE or unknown). */
const CONDITIONS = new Set<Node["k"]>(["cmp", "between", "in", "like", "isnull", "not", "and", "or"]);

function isCondition(n: Node): boolean {
  return CONDITIONS.has(n.k) || n.k === "id" || (n.k === "lit" && typeof n.v === "boolean");
}

function isValue(n: Node): boolean {
  return !CONDITIONS.has(n.k);
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    return this.toks[this.i++]!;
  }

  private isKw(k: Keyword): boolean {
    const t = this.peek();
    return t.t === "kw" && t.v === k;
  }

  private isOp(o: Operator): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === o;
  }

  private expectKw(k: Keyword): void {
    if (!this.isKw(k)) throw this.unexpected(k);
  }

  private expectOp(o: Operator): void {
    if (!this.isOp(o)) throw this.unexpected(`"${o}"`);
    this.i++;
  }

  private unexpected(wanted: string): SelectorError {
    const t = this.peek();
    const got = t.t === "end" ? "the end" : t.t === "str" ? `'${t.v}'` : String(t.v);
    return new SelectorError(`expected ${wanted} but found ${got}`, t.at);
  }

  parseSelector(): Node {
    const n = this.or();
    if (this.peek().t !== "end") throw this.unexpected("the end of the selector");
    if (!isCondition(n)) throw new SelectorError("a selector must be a condition, not a value", 0);
    return n;
  }

  private condition(n: Node, at: number): Node {
    if (!isCondition(n)) throw new SelectorError("expected a condition", at);
    return n;
  }

  private or(): Node {
    let at = this.peek().at;
    let l = this.and();
    while (this.isKw("OR")) {
      this.i++;
      const rAt = this.peek().at;
      const r = this.and();
      l = { k: "or", l: this.condition(l, at), r: this.condition(r, rAt) };
      at = rAt;
    }
    return l;
  }

  private and(): Node {
    let at = this.peek().at;
    let l = this.not();
    while (this.isKw("AND")) {
      this.i++;
      const rAt = this.peek().at;
      const r = this.not();
      l = { k: "and", l: this.condition(l, at), r: this.condition(r, rAt) };
      at = rAt;
    }
    return l;
  }

  private not(): Node {
    if (this.isKw("NOT")) {
      this.i++;
      const at = this.peek().at;
      return { k: "not", e: this.condition(this.not(), at) };
    }
    return this.predicate();
  }

  private value(n: Node, at: number): Node {
    if (!isValue(n)) throw new SelectorError("expected a value", at);
    return n;
  }

  private predicate(): Node {
    const at = this.peek().at;
    const e = this.sum();
    const t = this.peek();
    if (
      t.t === "op" &&
      (t.v === "=" || t.v === "<>" || t.v === "<" || t.v === ">" || t.v === "<=" || t.v === ">=")
    ) {
      this.i++;
      const rAt = this.peek().at;
      return { k: "cmp", op: t.v, l: this.value(e, at), r: this.value(this.sum(), rAt) };
    }
    let not = false;
    if (this.isKw("NOT")) {
      const after = this.toks[this.i + 1];
      if (after?.t === "kw" && (after.v === "BETWEEN" || after.v === "IN" || after.v === "LIKE")) {
        not = true;
        this.i++;
      }
    }
    if (this.isKw("BETWEEN")) {
      this.i++;
      const lo = this.sum();
      this.expectKw("AND");
      this.i++;
      const hi = this.sum();
      return { k: "between", e: this.value(e, at), lo: this.value(lo, at), hi: this.value(hi, at), not };
    }
    if (this.isKw("IN")) {
      this.i++;
      this.expectOp("(");
      const list: Literal[] = [];
      for (;;) {
        const lt = this.next();
        if (lt.t === "str" || lt.t === "num") list.push(lt.v);
        else if (lt.t === "op" && lt.v === "-" && this.peek().t === "num")
          list.push(-(this.next() as { v: number }).v);
        else {
          this.i--;
          throw this.unexpected("a string or number literal");
        }
        if (this.isOp(",")) {
          this.i++;
          continue;
        }
        this.expectOp(")");
        break;
      }
      return { k: "in", e: this.value(e, at), list, not };
    }
    if (this.isKw("LIKE")) {
      this.i++;
      const p = this.next();
      if (p.t !== "str") {
        this.i--;
        throw this.unexpected("a pattern string");
      }
      let escapeChar: string | undefined;
      if (this.isKw("ESCAPE")) {
        this.i++;
        const es = this.next();
        if (es.t !== "str" || es.v.length !== 1)
          throw new SelectorError("ESCAPE takes a one-character string", es.at);
        escapeChar = es.v;
      }
      return { k: "like", e: this.value(e, at), re: likeToRegExp(p.v, escapeChar, p.at), not };
    }
    if (not) throw this.unexpected("BETWEEN, IN or LIKE");
    if (this.isKw("IS")) {
      this.i++;
      let isNot = false;
      if (this.isKw("NOT")) {
        this.i++;
        isNot = true;
      }
      this.expectKw("NULL");
      this.i++;
      return { k: "isnull", e: this.value(e, at), not: isNot };
    }
    return e;
  }

  private sum(): Node {
    let l = this.product();
    for (;;) {
      const t = this.peek();
      if (t.t === "op" && (t.v === "+" || t.v === "-")) {
        this.i++;
        const at = this.peek().at;
        l = { k: "arith", op: t.v, l: this.value(l, t.at), r: this.value(this.product(), at) };
      } else return l;
    }
  }

  private product(): Node {
    let l = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === "op" && (t.v === "*" || t.v === "/")) {
        this.i++;
        const at = this.peek().at;
        l = { k: "arith", op: t.v, l: this.value(l, t.at), r: this.value(this.unary(), at) };
      } else return l;
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.t === "op" && (t.v === "+" || t.v === "-")) {
      this.i++;
      const at = this.peek().at;
      const e = this.value(this.unary(), at);
      if (t.v === "+") return e;
      return e.k === "lit" && typeof e.v === "number" ? { k: "lit", v: -e.v } : { k: "neg", e };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    switch (t.t) {
      case "num":
      case "str":
        return { k: "lit", v: t.v };
      case "id":
        return { k: "id", name: t.v };
      case "kw":
        if (t.v === "TRUE") return { k: "lit", v: true };
        if (t.v === "FALSE") return { k: "lit", v: false };
        break;
      case "op":
        if (t.v === "(") {
          const e = this.or();
          this.expectOp(")");
          return e;
        }
        break;
    }
    this.i--;
    throw this.unexpected("a value, a name or (");
  }
}

/** SQL LIKE pattern -> anchored RegExp: % = any run, _ = one character, `escapeChar` quotes the next one. */
function likeToRegExp(pattern: string, escapeChar: string | undefined, at: number): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === escapeChar) {
      const n = pattern[i + 1];
      if (n === undefined) throw new SelectorError("LIKE pattern ends with its escape character", at);
      re += n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      i++;
    } else if (c === "%") re += "[\\s\\S]*";
    else if (c === "_") re += "[\\s\\S]";
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`${re}$`, "u");
}

/** Parses a selector; throws SelectorError (with the position) when it is not valid. */
export function parseSelector(src: string): Node {
  if (src.trim() === "") throw new SelectorError("empty selector", 0);
  return new Parser(tokenize(src)).parseSelector();
}
