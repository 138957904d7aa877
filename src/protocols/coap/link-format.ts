/** CoRE Link Format (RFC 6690): serializing links, query filtering (§4.1) and parsing. */

export interface Link {
  href: string;
  /** Attribute name -> value; `true` for a flag such as `obs`. */
  attrs: Array<[string, string | number | true]>;
}

export function serializeLinks(links: readonly Link[]): string {
  const out: string[] = [];
  for (const l of links) {
    let s = `<${l.href}>`;
    for (const [k, v] of l.attrs) {
      if (v === true) s += `;${k}`;
      else if (typeof v === "number") s += `;${k}=${v}`;
      else s += `;${k}="${v.replace(/"/g, '\\"')}"`;
    }
    out.push(s);
  }
  return out.join(",");
}

/**
 * RFC 6690 §4.1: `?name=value` keeps the links whose attribute matches; a value ending in `*`
 * matches by prefix; `rt`, `if` and similar attributes are space-separated lists matched per
 * item; `href` matches the link target. Only the first query parameter filters.
 */
export function filterLinks(links: readonly Link[], query: readonly string[]): Link[] {
  const q = query[0];
  if (q === undefined) return [...links];
  const eq = q.indexOf("=");
  const name = eq < 0 ? q : q.slice(0, eq);
  const want = eq < 0 ? "" : q.slice(eq + 1);
  const prefix = want.endsWith("*");
  const stem = prefix ? want.slice(0, -1) : want;
  const matches = (v: string): boolean => (prefix ? v.startsWith(stem) : v === stem);
  return links.filter((l) => {
    if (name === "href") return matches(l.href);
    for (const [k, v] of l.attrs) {
      if (k !== name) continue;
      if (v === true) return eq < 0 || stem === "";
      const s = String(v);
      if (matches(s)) return true;
      if (s.split(" ").some(matches)) return true;
    }
    return false;
  });
}

/** Parses `<a>;ct=50;rt="x",<b>` (enough of RFC 6690 §2 for topic creation requests). */
export function parseLinks(text: string): Link[] | undefined {
  const links: Link[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === " " || text[i] === "," || text[i] === "\n" || text[i] === "\r")) i++;
    if (i >= n) break;
    if (text[i] !== "<") return undefined;
    const close = text.indexOf(">", i);
    if (close < 0) return undefined;
    const link: Link = { href: text.slice(i + 1, close), attrs: [] };
    i = close + 1;
    while (i < n && text[i] === ";") {
      i++;
      let j = i;
      while (j < n && text[j] !== "=" && text[j] !== ";" && text[j] !== ",") j++;
      const key = text.slice(i, j).trim();
      if (text[j] !== "=") {
        link.attrs.push([key, true]);
        i = j;
        continue;
      }
      j++;
      let value: string;
      if (text[j] === '"') {
        const end = text.indexOf('"', j + 1);
        if (end < 0) return undefined;
        value = text.slice(j + 1, end);
        i = end + 1;
      } else {
        let k = j;
        while (k < n && text[k] !== ";" && text[k] !== ",") k++;
        value = text.slice(j, k).trim();
        i = k;
      }
      link.attrs.push([key, value]);
    }
    links.push(link);
  }
  return links;
}
