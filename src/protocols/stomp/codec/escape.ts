/**
 * Header value escaping (STOMP 1.2 §"Value Encoding"; 1.1 has the same without `\r`): `\r`, `\n`,
 * `:` and `\` are written as `\r`, `\n`, `\c`, `\\`. Any other escape is a fatal protocol error.
 * 1.0 and the CONNECT / CONNECTED frames are not escaped.
 */

import { StompCodecError } from "./errors.js";
import type { StompVersion } from "./frame.js";

const BACKSLASH = 0x5c;

export function unescapeHeader(s: string, version: StompVersion): string {
  if (s.indexOf("\\") === -1) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== BACKSLASH) {
      out += s[i];
      continue;
    }
    const next = s[++i];
    if (next === "n") out += "\n";
    else if (next === "c") out += ":";
    else if (next === "\\") out += "\\";
    else if (next === "r" && version === "1.2") out += "\r";
    else {
      const seq = next === undefined ? "\\ at the end" : `\\${next}`;
      throw new StompCodecError(
        "bad-escape",
        `undefined escape sequence ${seq} in a header (STOMP ${version})`,
      );
    }
  }
  return out;
}

/** True when `s` holds a character that must be escaped. */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x3a || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

export function escapeHeader(s: string, version: StompVersion): string {
  if (!needsEscape(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "\\") out += "\\\\";
    else if (ch === ":") out += "\\c";
    else if (ch === "\n") out += "\\n";
    // 1.1 has no \r escape: a carriage return is left as it is there.
    else if (ch === "\r" && version === "1.2") out += "\\r";
    else out += ch;
  }
  return out;
}

/**
 * For 1.0 (no escaping): a value cannot carry a line break, so line breaks become spaces rather than
 * ending the header early and corrupting the frame.
 */
export function flattenHeader(s: string): string {
  if (s.indexOf("\n") === -1 && s.indexOf("\r") === -1) return s;
  return s.replace(/[\r\n]/g, " ");
}
