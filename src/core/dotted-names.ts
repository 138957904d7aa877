/**
 * Dotted names (AMQP routing keys, STOMP `/topic/` destinations, WAMP URIs) <-> canonical MQTT-form
 * topics, following RabbitMQ's MQTT plugin: "." and "/" swap places. The swap is its own inverse, so
 * every name maps back unchanged (MQTT `a/b.c` is routing key `a.b/c` and back again), and binding
 * keys map `*` (one word) to `+` and a trailing `#` (zero or more words) to `#`.
 *
 * One difference from AMQP's own matcher is unavoidable: AMQP's `#` may stand anywhere and match
 * zero words ("a.#.b"), while the shared topic tree only has MQTT's trailing `#`. Such keys are
 * reported as unsupported instead of being silently widened.
 */

const DOT = 0x2e;
const SLASH = 0x2f;

/** Swaps "." and "/" (its own inverse). Returns the input unchanged when it has neither. */
function swapSeparators(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT || c === SLASH) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c === DOT ? "/" : c === SLASH ? "." : s[i];
  }
  return out;
}

/** Routing key / destination name `a.b.c` -> topic `a/b/c`. */
export function dottedToTopic(name: string): string {
  return swapSeparators(name);
}

/** Topic `a/b/c` -> routing key / destination name `a.b.c`. */
export function topicToDotted(topic: string): string {
  return swapSeparators(topic);
}

/**
 * Binding key with `*` and `#` words -> MQTT topic filter, or undefined when the key uses `#`
 * anywhere but as its last word, or `*`/`#` inside a word (AMQP treats those as literals; MQTT
 * filters cannot express a literal `+`/`#`, so they are refused rather than mistranslated).
 */
export function dottedToFilter(key: string): string | undefined {
  const words = key.split(".");
  const levels: string[] = new Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "*") levels[i] = "+";
    else if (w === "#") {
      if (i !== words.length - 1) return undefined;
      levels[i] = "#";
    } else if (w.includes("*") || w.includes("#") || w.includes("+")) return undefined;
    else levels[i] = w.includes("/") ? w.replaceAll("/", ".") : w;
  }
  return levels.join("/");
}
