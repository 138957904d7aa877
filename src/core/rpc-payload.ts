/**
 * The one mapping between RPC arguments (the Dealer's RpcPayload: a list and a dict) and a bytes
 * payload with message properties (docs/rpc.md "Payload mapping", docs/wamp.md "Payload mapping").
 * Every protocol that carries calls, results and errors as bytes (MQTT, STOMP, HTTP, AMQP, CoAP,
 * XMPP) uses it, and WAMP uses it for events, so one value reads the same everywhere.
 *
 * arguments -> bytes:
 * - no arguments, no keyword arguments: an empty payload;
 * - exactly one positional argument and no keyword arguments:
 *   - binary: the bytes, as they are;
 *   - a string: its UTF-8 bytes, marked as UTF-8 text (MQTT payload format indicator 1);
 *   - any other value (number, boolean, null, list, dict): its JSON, content type application/json;
 * - anything else: JSON `[args, kwargs]`, content type application/x-wamp+json.
 *   Binary inside JSON: "\0" + Base64 (json-binary.ts).
 *
 * bytes -> arguments, by content type:
 * - application/x-wamp+json: the args and kwargs back, exactly;
 * - application/json (or any +json type) holding valid JSON: one argument, the decoded value;
 * - otherwise, a payload of valid UTF-8: one argument, the string;
 * - otherwise: one argument, the bytes. An empty payload: no arguments.
 *
 * Errors: the error URI travels as the user property / header `error` (RPC_ERROR_HEADER); the
 * error's args and kwargs are the payload, mapped as above.
 */
import { isUtf8 } from "node:buffer";
import type { RpcPayload } from "./dealer/index.js";
import { binaryToJson, jsonToBinary } from "./json-binary.js";
import { type MessageProperties, NO_PROPERTIES } from "./message.js";

/** Content type of a payload that is a JSON `[args, kwargs]` pair. */
export const RPC_ARGS_CONTENT_TYPE = "application/x-wamp+json";
/** The user property / header that carries the error URI of a failed call. */
export const RPC_ERROR_HEADER = "error";

const TEXT: MessageProperties = Object.freeze({ payloadIsUtf8: true });
const JSON_CONTENT: MessageProperties = Object.freeze({ contentType: "application/json" });
const ARGS_CONTENT: MessageProperties = Object.freeze({ contentType: RPC_ARGS_CONTENT_TYPE });
const EMPTY = Buffer.alloc(0);

export interface EncodedPayload {
  payload: Buffer;
  properties: MessageProperties;
}

export function hasKeys(d: Record<string, unknown> | undefined): boolean {
  if (d === undefined) return false;
  for (const _ in d) return true;
  return false;
}

/** Bytes and properties for a list and a dict of arguments (see the module comment). */
export function encodeArgs(
  args: readonly unknown[] | undefined,
  kwargs: Record<string, unknown> | undefined,
): EncodedPayload {
  if (!hasKeys(kwargs)) {
    if (args === undefined || args.length === 0) return { payload: EMPTY, properties: NO_PROPERTIES };
    if (args.length === 1) {
      const v = args[0];
      if (v instanceof Uint8Array) {
        const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        return { payload: b, properties: NO_PROPERTIES };
      }
      if (typeof v === "string") return { payload: Buffer.from(v), properties: TEXT };
      return { payload: Buffer.from(JSON.stringify(binaryToJson(v ?? null))), properties: JSON_CONTENT };
    }
  }
  const body = JSON.stringify(binaryToJson([args ?? [], kwargs ?? {}]));
  return { payload: Buffer.from(body), properties: ARGS_CONTENT };
}

/** encodeArgs for an RpcPayload. */
export function encodeRpcPayload(p: RpcPayload): EncodedPayload {
  return encodeArgs(p.args, p.kwargs);
}

/** An error answer: its args/kwargs as the payload, its URI as the user property `error`. */
export function encodeRpcError(uri: string, p: RpcPayload): EncodedPayload {
  const { payload, properties } = encodeArgs(p.args, p.kwargs);
  const userProperties: Array<[string, string]> = [[RPC_ERROR_HEADER, uri]];
  return { payload, properties: { ...properties, userProperties } };
}

/** The error URI an answer carries (user property / header `error`), or undefined for a result. */
export function rpcErrorOf(properties: MessageProperties): string | undefined {
  const ups = properties.userProperties;
  if (ups === undefined) return undefined;
  for (const [k, v] of ups) if (k === RPC_ERROR_HEADER) return v;
  return undefined;
}

function isJsonType(ct: string): boolean {
  return ct === "application/json" || ct.endsWith("+json") || ct.startsWith("application/json;");
}

/** The arguments a payload with these properties carries (see the module comment). */
export function decodeRpcPayload(payload: Buffer, properties: MessageProperties): RpcPayload {
  if (payload.length === 0) return {};
  const ct = properties.contentType;
  if (ct !== undefined) {
    if (ct === RPC_ARGS_CONTENT_TYPE) {
      const v = parseJson(payload);
      if (Array.isArray(v) && v.length === 2 && Array.isArray(v[0]) && isPlainDict(v[1])) {
        const args = jsonToBinary(v[0]) as unknown[];
        const kwargs = jsonToBinary(v[1]) as Record<string, unknown>;
        return hasKeys(kwargs) ? { args, kwargs } : { args };
      }
    } else if (isJsonType(ct)) {
      const v = parseJson(payload);
      if (v !== INVALID) return { args: [jsonToBinary(v)] };
    }
  }
  if (properties.payloadIsUtf8 || isUtf8(payload)) return { args: [payload.toString("utf8")] };
  return { args: [payload] };
}

/**
 * The arguments of a call or an answer whose sender could not say how its payload is encoded (no
 * content type: MQTT 3.1.1, a plain MQTT 5 or STOMP client, an HTTP body): a payload of valid JSON
 * is a JSON body (jsonBodyArgs); anything else is read as decodeRpcPayload reads it.
 */
export function decodeCallPayload(payload: Buffer, properties: MessageProperties): RpcPayload {
  if (properties.contentType !== undefined || payload.length === 0)
    return decodeRpcPayload(payload, properties);
  const v = parseJson(payload);
  return v === INVALID ? decodeRpcPayload(payload, properties) : jsonBodyArgs(v);
}

/**
 * A JSON body as arguments (docs/rpc.md): an object with only `args` (a list) and/or `kwargs` (an
 * object) gives those; any other JSON value is the one positional argument.
 */
export function jsonBodyArgs(v: unknown): RpcPayload {
  if (isPlainDict(v)) {
    let n = 0;
    let ok = true;
    for (const k in v) {
      n++;
      if (k === "args") ok &&= Array.isArray(v.args);
      else if (k === "kwargs") ok &&= isPlainDict(v.kwargs);
      else ok = false;
    }
    if (ok && n > 0) {
      const args = (v.args === undefined ? [] : jsonToBinary(v.args)) as unknown[];
      const kwargs = v.kwargs === undefined ? undefined : (jsonToBinary(v.kwargs) as Record<string, unknown>);
      return hasKeys(kwargs) ? { args, kwargs } : { args };
    }
  }
  return { args: [jsonToBinary(v)] };
}

/**
 * The JSON document of an error for protocols with no header to put the URI in (the MQTT 3.1.1
 * convention, docs/rpc.md): `{"error": uri, "args": [...], "kwargs": {...}}` (empty ones left out).
 */
export function rpcErrorJson(uri: string, p: RpcPayload): Buffer {
  const doc: Record<string, unknown> = { error: uri };
  if (p.args !== undefined && p.args.length > 0) doc.args = binaryToJson(p.args);
  if (hasKeys(p.kwargs)) doc.kwargs = binaryToJson(p.kwargs);
  return Buffer.from(JSON.stringify(doc));
}

const INVALID = Symbol("invalid");

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString("utf8"));
  } catch {
    return INVALID;
  }
}

export function isPlainDict(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
