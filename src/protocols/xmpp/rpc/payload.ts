/**
 * RPC arguments <-> the text of a `urn:switchboard:rpc` element (docs/rpc.md "XMPP"). One rule for
 * the three elements (`<call/>`, `<result/>`, `<error/>`), driven by two optional attributes:
 * - `encoding='base64'`: the text is Base64 of bytes (one binary argument);
 * - `content-type`: how the text (or the decoded bytes) reads, by the core mapping
 *   (src/core/rpc-payload.ts): `application/x-wamp+json` is `[args, kwargs]`, `application/json` one
 *   JSON value, anything else one string.
 * Without either, a call's text is a JSON body (`{"args", "kwargs"}` or one value, like HTTP's) and a
 * result's or error's text is its one JSON value. Binary nested inside JSON is "\u0000" + Base64 (the
 * WAMP rule, json-binary.ts). Writing picks the form that keeps the arguments exactly.
 */
import type { RpcPayload } from "../../../core/dealer/index.js";
import { binaryToJson } from "../../../core/json-binary.js";
import { decodeRpcPayload, hasKeys, jsonBodyArgs, RPC_ARGS_CONTENT_TYPE } from "../../../core/rpc-payload.js";
import { NS } from "../namespaces.js";
import { type Element, el } from "../xml/element.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isJsonType(ct: string): boolean {
  return ct === "application/json" || ct.endsWith("+json") || ct.startsWith("application/json;");
}

/** The arguments of a `<call/>`, or a reason it is malformed (answered with bad-request). */
export function callArgs(call: Element): RpcPayload | { malformed: string } {
  const contentType = call.attr("content-type");
  const encoding = call.attr("encoding");
  let text = call.text();
  if (encoding !== undefined) {
    if (encoding !== "base64") return { malformed: `unknown encoding '${encoding}'` };
    text = text.replace(/\s+/g, "");
    if (!BASE64.test(text) || text.length % 4 !== 0) return { malformed: "the text is not Base64" };
    const bytes = Buffer.from(text, "base64");
    // Bytes stay bytes unless the content type says they are JSON.
    if (contentType === undefined || !isJsonType(contentType)) return bytes.length ? { args: [bytes] } : {};
    return decodeStrict(bytes, contentType);
  }
  if (contentType !== undefined) return decodeStrict(Buffer.from(text, "utf8"), contentType);
  if (text.trim() === "") return {};
  try {
    return jsonBodyArgs(JSON.parse(text));
  } catch {
    return { malformed: "the call's text is not JSON" };
  }
}

/** The core mapping, except that text declared as JSON must be JSON (not silently a string). */
function decodeStrict(bytes: Buffer, contentType: string): RpcPayload | { malformed: string } {
  if (bytes.length > 0 && (isJsonType(contentType) || contentType === RPC_ARGS_CONTENT_TYPE)) {
    let v: unknown;
    try {
      v = JSON.parse(bytes.toString("utf8"));
    } catch {
      return { malformed: `the text is not ${contentType}` };
    }
    if (contentType === RPC_ARGS_CONTENT_TYPE && !isArgsPair(v))
      return { malformed: `${RPC_ARGS_CONTENT_TYPE} is a JSON [args, kwargs] pair` };
  }
  return decodeRpcPayload(bytes, { contentType });
}

function isArgsPair(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 2 &&
    Array.isArray(v[0]) &&
    typeof v[1] === "object" &&
    v[1] !== null &&
    !Array.isArray(v[1])
  );
}

/**
 * JSON text XML 1.0 can carry: JSON.stringify already escapes control characters and lone
 * surrogates, but not U+FFFE/U+FFFF, which XML forbids (§2.2); inside JSON they can only be in strings.
 */
function xmlSafeJson(v: unknown): string {
  return JSON.stringify(binaryToJson(v)).replace(
    /[\uFFFE\uFFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/**
 * An element `name` in urn:switchboard:rpc carrying `payload` (see the module comment): empty for no
 * arguments; `encoding='base64'` for one binary argument; the JSON of one argument; otherwise
 * `content-type='application/x-wamp+json'` with `[args, kwargs]`.
 */
export function payloadElement(
  name: string,
  payload: RpcPayload,
  attrs: Record<string, string> = {},
): Element {
  const e = el(name, NS.rpc, attrs);
  const args = payload.args ?? [];
  if (!hasKeys(payload.kwargs)) {
    if (args.length === 0) return e;
    if (args.length === 1) {
      const v = args[0];
      if (v instanceof Uint8Array) {
        e.attrs.encoding = "base64";
        return e.addText(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64"));
      }
      return e.addText(xmlSafeJson(v ?? null));
    }
  }
  e.attrs["content-type"] = RPC_ARGS_CONTENT_TYPE;
  return e.addText(xmlSafeJson([args, payload.kwargs ?? {}]));
}
