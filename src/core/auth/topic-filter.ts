/**
 * Topic-filter algebra on split levels, for the ACL (not the router's hot path: the ACL caches its
 * decisions). MQTT semantics: `+` is one level, `#` (last level only) is the rest including the parent
 * level (`a/#` matches `a`), and a filter starting with a wildcard does not match a topic starting
 * with `$` [MQTT-4.7.2-1].
 */

/** Why `filter` is not a valid topic filter, or undefined when it is. */
export function invalidFilter(levels: readonly string[]): string | undefined {
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (l === "#") {
      if (i !== levels.length - 1) return "'#' must be the last level";
    } else if (l !== "+" && (l.includes("#") || l.includes("+"))) {
      return "a wildcard must occupy a whole level";
    }
  }
  return undefined;
}

const isWild = (l: string): boolean => l === "+" || l === "#";
const dollarGuard = (f: readonly string[], other: readonly string[]): boolean =>
  f.length > 0 && other.length > 0 && isWild(f[0]) && !isWild(other[0]) && other[0].startsWith("$");

/** Does `filter` match the concrete `topic` (both split into levels)? */
export function filterMatches(filter: readonly string[], topic: readonly string[]): boolean {
  if (dollarGuard(filter, topic)) return false;
  let i = 0;
  for (; i < filter.length; i++) {
    const f = filter[i];
    if (f === "#") return true;
    if (i >= topic.length) return false;
    if (f !== "+" && f !== topic[i]) return false;
  }
  return i === topic.length;
}

/**
 * Does `outer` match every topic `inner` can match? (`sensors/#` covers `sensors/+/temp`, not `#`.)
 * Both are filters split into levels.
 */
export function filterCovers(outer: readonly string[], inner: readonly string[]): boolean {
  // A leading wildcard in `outer` misses the `$` topics a literal `$...` first level in `inner` names.
  if (dollarGuard(outer, inner)) return false;
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i];
    if (o === "#") return true;
    if (i >= inner.length) return false; // inner ends: it matches a shorter topic outer does not
    const n = inner[i];
    if (n === "#") return false; // inner matches any depth here; only `#` in outer covers that
    if (o === "+") continue; // covers a literal or `+`
    if (n === "+" || n !== o) return false;
  }
  // outer exhausted: covered only if inner ends here too
  return inner.length === outer.length;
}

/** Is there at least one topic both filters match? */
export function filtersOverlap(a: readonly string[], b: readonly string[]): boolean {
  if (dollarGuard(a, b) || dollarGuard(b, a)) return false;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === "#" || y === "#") return true;
    if (x === "+" || y === "+") continue;
    if (x !== y) return false;
  }
  if (a.length === b.length) return true;
  // One is longer: the extra must be a lone `#` (which also matches the parent level).
  const longer = a.length > b.length ? a : b;
  return longer.length === n + 1 && longer[n] === "#";
}
