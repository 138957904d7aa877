/**
 * A parsed XML element: local name, namespace URI, unprefixed attributes (plus xml:lang) and
 * children. Small on purpose: stanzas are read once by a handler and then dropped or re-serialized.
 */
export type Node = Element | string;

export class Element {
  readonly children: Node[] = [];

  constructor(
    readonly name: string,
    readonly ns: string,
    readonly attrs: Record<string, string> = {},
  ) {}

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  /** The first child element named `name` in namespace `ns` (any namespace when omitted). */
  child(name: string, ns?: string): Element | undefined {
    for (const c of this.children) {
      if (typeof c !== "string" && c.name === name && (ns === undefined || c.ns === ns)) return c;
    }
    return undefined;
  }

  /** Every child element (in `ns` when given). */
  elements(ns?: string): Element[] {
    const out: Element[] = [];
    for (const c of this.children)
      if (typeof c !== "string" && (ns === undefined || c.ns === ns)) out.push(c);
    return out;
  }

  /** The first child element, whatever its name. */
  firstElement(): Element | undefined {
    for (const c of this.children) if (typeof c !== "string") return c;
    return undefined;
  }

  /** The concatenated character data of the direct children. */
  text(): string {
    let s = "";
    for (const c of this.children) if (typeof c === "string") s += c;
    return s;
  }

  /** Appends a child and returns it (for building replies). */
  add(child: Element): Element {
    this.children.push(child);
    return child;
  }

  addText(text: string): this {
    this.children.push(text);
    return this;
  }
}

/** Builds an element: el("iq", NS.client, { type: "result" }, child1, "text"). */
export function el(
  name: string,
  ns: string,
  attrs: Record<string, string | undefined> = {},
  ...children: Node[]
) {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  const e = new Element(name, ns, clean);
  e.children.push(...children);
  return e;
}
