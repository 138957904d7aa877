/**
 * Pure helpers for canonical (MQTT-form) topic names and filters: validation, shared-subscription
 * parsing and a reference matcher. Protocol adapters translate to this form at the edge (DESIGN.md
 * "Canonical names"); the hot-path matcher is TopicTree, not `topicMatches`.
 *
 * Rules (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7 and §4.8.2):
 * - levels are separated by "/"; empty levels are legal ("a//b", "/a") [MQTT-4.7.1-1 note];
 * - "+" matches exactly one level and must occupy a whole level [MQTT-4.7.1-3];
 * - "#" matches the parent level and any number of child levels, and must be the whole last level
 *   [MQTT-4.7.1-2];
 * - names and filters are at least one character long [MQTT-4.7.3-1], contain no U+0000
 *   [MQTT-4.7.3-2] and are at most 65535 bytes of UTF-8 [MQTT-4.7.3-3];
 * - a topic name starting with "$" is not matched by a filter whose first level is "+" or "#"
 *   [MQTT-4.7.2-1].
 */

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/** Largest UTF-8 encoded length of a topic name or filter [MQTT-4.7.3-3]. */
export const MAX_TOPIC_BYTES = 65535;

/** Prefix of a shared-subscription filter: "$share/<group>/<filter>" [MQTT-4.8.2-1]. */
export const SHARE_PREFIX = "$share/";

export interface SharedFilter {
  /** The share name (MQTT 5 "ShareName"). */
  group: string;
  /** The topic filter subscribed to by the group. */
  filter: string;
}

/**
 * Returns why `topic` is not a valid topic name (a topic a message is published to), or undefined
 * when it is valid. Also rejects lone UTF-16 surrogates, which have no UTF-8 encoding [MQTT-1.5.4-1].
 */
export function validateTopicName(topic: string, maxLevels: number): string | undefined {
  return check(topic, false, maxLevels);
}

/**
 * Returns why `filter` is not a valid topic filter (what a subscriber asks for), or undefined when it
 * is valid. This checks the plain syntax only: a "$share/..." string is checked as an ordinary filter
 * here; use {@link validateSharedFilter} where shared subscriptions are supported (MQTT 5).
 */
export function validateTopicFilter(filter: string, maxLevels: number): string | undefined {
  return check(filter, true, maxLevels);
}

/** True when `filter` has the shared-subscription form "$share/..." (valid or not). */
export function isSharedFilter(filter: string): boolean {
  return filter.startsWith(SHARE_PREFIX);
}

/**
 * Returns why `filter` is not a valid shared-subscription filter "$share/<group>/<filter>", or
 * undefined when it is valid. A filter that does not start with "$share/" is reported as invalid
 * here; call {@link isSharedFilter} first to choose between this and {@link validateTopicFilter}.
 * The level limit applies to the inner filter.
 */
export function validateSharedFilter(filter: string, maxLevels: number): string | undefined {
  if (!isSharedFilter(filter)) return "not a shared subscription filter";
  const slash = filter.indexOf("/", SHARE_PREFIX.length);
  const group = slash === -1 ? filter.slice(SHARE_PREFIX.length) : filter.slice(SHARE_PREFIX.length, slash);
  if (group.length === 0) return "shared subscription share name is empty [MQTT-4.8.2-1]";
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i);
    if (c === PLUS || c === HASH) {
      return "shared subscription share name contains '+' or '#' [MQTT-4.8.2-2]";
    }
    if (c === 0) return "shared subscription share name contains U+0000 [MQTT-4.7.3-2]";
  }
  if (slash === -1) return "shared subscription has no topic filter after the share name [MQTT-4.8.2-1]";
  const inner = filter.slice(slash + 1);
  if (inner.length === 0) return "shared subscription topic filter is empty [MQTT-4.8.2-1]";
  const error = check(inner, true, maxLevels);
  return error === undefined ? undefined : `shared subscription topic filter: ${error}`;
}

/**
 * Splits "$share/<group>/<filter>" into its parts. Returns undefined for a filter that is not shared
 * (does not start with "$share/"). Throws a RangeError for a filter that starts with "$share/" but is
 * not a valid shared filter (e.g. "$share/g", "$share//x"): it is neither shared nor plain, and must be
 * refused, so validate untrusted input with {@link validateSharedFilter} first.
 * The level limit is not checked here.
 */
export function parseSharedFilter(filter: string): SharedFilter | undefined {
  if (!isSharedFilter(filter)) return undefined;
  const error = validateSharedFilter(filter, Number.POSITIVE_INFINITY);
  if (error !== undefined) throw new RangeError(`invalid shared subscription filter: ${error}`);
  const slash = filter.indexOf("/", SHARE_PREFIX.length);
  return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
}

/**
 * Reference matcher: does `filter` match topic name `topic`? Both are assumed valid. Splits both
 * strings, so it is for tests and rare paths; the per-publish matcher is TopicTree.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  // [MQTT-4.7.2-1] "$" topics are not matched by a leading wildcard.
  if (topic.charCodeAt(0) === DOLLAR && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true; // the rest, including no level at all ("a/#" matches "a")
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** One pass over the string: characters, wildcard placement, level count, then the byte length. */
function check(s: string, isFilter: boolean, maxLevels: number): string | undefined {
  const what = isFilter ? "topic filter" : "topic name";
  if (s.length === 0) return `${what} is empty [MQTT-4.7.3-1]`;
  let levels = 1;
  const last = s.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = s.charCodeAt(i);
    if (c === SLASH) {
      if (++levels > maxLevels) return `${what} has more than ${maxLevels} levels`;
    } else if (c === PLUS || c === HASH) {
      if (!isFilter) return "topic name contains a wildcard character [MQTT-3.3.2-2]";
      const wholeLevel =
        (i === 0 || s.charCodeAt(i - 1) === SLASH) && (i === last || s.charCodeAt(i + 1) === SLASH);
      if (c === PLUS && !wholeLevel) return "'+' must occupy a whole level [MQTT-4.7.1-3]";
      if (c === HASH && (!wholeLevel || i !== last)) {
        return "'#' must be the whole last level [MQTT-4.7.1-2]";
      }
    } else if (c === 0) {
      return `${what} contains U+0000 [MQTT-4.7.3-2]`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate must be followed by a low one; a low one must not stand alone.
      const next = i < last ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff)
        return `${what} contains a lone surrogate [MQTT-1.5.4-1]`;
      i++;
    }
  }
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no count.
  if (s.length * 3 > MAX_TOPIC_BYTES && Buffer.byteLength(s, "utf8") > MAX_TOPIC_BYTES) {
    return `${what} is longer than ${MAX_TOPIC_BYTES} bytes of UTF-8 [MQTT-4.7.3-3]`;
  }
  return undefined;
}

/** True when `topic` has more than `maxLevels` levels (stops counting at the limit). */
export function exceedsLevels(topic: string, maxLevels: number): boolean {
  let separators = 0;
  for (let i = topic.indexOf("/"); i !== -1; i = topic.indexOf("/", i + 1)) {
    if (++separators >= maxLevels) return true;
  }
  return false;
}
