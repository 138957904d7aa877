/**
 * WAMP URI rules (WAMP §2.1.1 "URIs"), checked with a scan instead of a regex per message.
 *
 * - loose: components of any characters but whitespace, "." and "#": `^([^\s\.#]+\.)*([^\s\.#]+)$`
 * - strict: components of lower-case letters, digits and "_": `^([0-9a-z_]+\.)*([0-9a-z_]+)$`
 * - pattern-based subscriptions and registrations (WAMP §11.9, §14.x) may have empty components:
 *   wildcard `com..create` (one empty component matches any one component), prefix `com.app.`.
 *
 * Switchboard adds one rule of its own: a topic URI must not contain `+` (URIs map to MQTT-form
 * topics, where `+` is a wildcard; see docs/wamp.md). Procedures may.
 */

import { dottedToTopic, topicToDotted } from "../../../core/dotted-names.js";

export type UriCheck = "strict" | "loose";

const DOT = 0x2e;
const HASH = 0x23;

function isWhitespace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isStrictChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/**
 * True when `uri` is valid under `mode`. With `allowEmpty`, components may be empty (pattern
 * URIs); the URI itself must still be non-empty.
 */
export function isValidUri(uri: string, mode: UriCheck, allowEmpty = false): boolean {
  const n = uri.length;
  if (n === 0) return false;
  let componentLength = 0;
  for (let i = 0; i < n; i++) {
    const c = uri.charCodeAt(i);
    if (c === DOT) {
      if (componentLength === 0 && !allowEmpty) return false;
      componentLength = 0;
      continue;
    }
    if (mode === "strict" ? !isStrictChar(c) : c === HASH || isWhitespace(c)) return false;
    componentLength++;
  }
  return componentLength > 0 || allowEmpty;
}

/** URIs starting with "wamp." are reserved for the router (WAMP §2.1.1.1). */
export function isReservedUri(uri: string): boolean {
  return uri.startsWith("wamp.");
}

const RESERVED_TOPIC_PREFIX = "$wamp/";

/**
 * WAMP topic URI -> core topic. `a.b.c` is `a/b/c` (dots and slashes swap, as for every dotted
 * protocol: core/dotted-names.ts). The router's own URI space `wamp.` (meta events) lives under
 * `$wamp/`: a `$` topic, so MQTT's `#` and `+/...` do not match it [MQTT-4.7.2-1] and an MQTT client
 * sees meta events only when it asks for `$wamp/...`.
 */
export function uriToTopic(uri: string): string {
  return isReservedUri(uri) ? `$${dottedToTopic(uri)}` : dottedToTopic(uri);
}

/** Core topic -> WAMP topic URI (the inverse of uriToTopic). */
export function topicToUri(topic: string): string {
  return topic.startsWith(RESERVED_TOPIC_PREFIX) ? topicToDotted(topic.slice(1)) : topicToDotted(topic);
}
