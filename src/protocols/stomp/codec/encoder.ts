/**
 * STOMP frame encoder: command, headers and body -> bytes. Pure (no I/O).
 *
 * Header names and values are escaped for 1.1/1.2 (except CONNECTED, 1.2 §"Value Encoding"); a body
 * gets a content-length header so zero bytes inside it survive (1.2 §"Header content-length").
 */
import { escapeHeader, flattenHeader } from "./escape.js";
import { escapesHeaders, type Header, type StompVersion } from "./frame.js";

export function encodeHead(command: string, headers: readonly Header[], version: StompVersion): string {
  const escaped = escapesHeaders(version, command);
  let s = `${command}\n`;
  for (const [name, value] of headers) {
    s += escaped
      ? `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n`
      : `${flattenHeader(name)}:${flattenHeader(value)}\n`;
  }
  return s;
}

/** A whole frame. `content-length` is added for a non-empty body unless headers already hold one. */
export function encodeFrame(
  command: string,
  headers: readonly Header[],
  version: StompVersion,
  body: Buffer | string = "",
): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  let head = encodeHead(command, headers, version);
  if (bytes.length > 0 && !headers.some((h) => h[0] === "content-length")) {
    head += `content-length:${bytes.length}\n`;
  }
  head += "\n";
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + bytes.length + 1);
  out.write(head, 0, "utf8");
  bytes.copy(out, headLength);
  out[out.length - 1] = 0;
  return out;
}
