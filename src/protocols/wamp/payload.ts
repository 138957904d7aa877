/**
 * The payload mapping between WAMP events and the core Message (docs/wamp.md "Payload mapping").
 *
 * WAMP -> core (what a PUBLISH becomes; what MQTT/AMQP/STOMP subscribers receive):
 * - no arguments, no keyword arguments: an empty payload;
 * - exactly one positional argument and no keyword arguments:
 *   - binary: the bytes, as they are;
 *   - a string: its UTF-8 bytes, marked as UTF-8 text (MQTT payload format indicator 1);
 *   - any other value (number, boolean, null, list, dict): its JSON, content type application/json;
 * - anything else: JSON `[args, kwargs]`, content type application/x-wamp+json.
 *   Binary inside JSON follows WAMP's JSON rule: "\0" + Base64.
 *
 * core -> WAMP (what an EVENT carries), by content type:
 * - application/x-wamp+json: the args and kwargs back, exactly;
 * - application/json (or any +json type) holding valid JSON: one argument, the decoded value;
 * - otherwise, a payload of valid UTF-8: one argument, the string;
 * - otherwise: one argument, the bytes. An empty payload: no arguments.
 * Each direction undoes the other, so a payload crosses MQTT -> WAMP -> MQTT unchanged (JSON is
 * re-encoded in JSON.stringify's canonical form).
 */
import { isUtf8 } from "node:buffer";
import type { RpcPayload } from "../../core/dealer/index.js";
import { type Message, type MessageProperties, NO_PROPERTIES } from "../../core/message.js";
import type { RecipientFilter } from "../../core/recipients.js";
import { binaryToJson, jsonToBinary } from "./codec/serializers.js";

/** A message's Arguments|list and ArgumentsKw|dict as the core's RpcPayload (absent ones left out). */
export function argsOf(args: unknown[] | undefined, kwargs: Record<string, unknown> | undefined): RpcPayload {
  if (kwargs !== undefined) return { args: args ?? [], kwargs };
  return args !== undefined ? { args } : {};
}

export const WAMP_CONTENT_TYPE = "application/x-wamp+json";
const TEXT: MessageProperties = Object.freeze({ payloadIsUtf8: true });
const JSON_CONTENT: MessageProperties = Object.freeze({ contentType: "application/json" });
const EMPTY = Buffer.alloc(0);

export interface EncodedPayload {
  payload: Buffer;
  properties: MessageProperties;
}

function hasKeys(d: Record<string, unknown> | undefined): boolean {
  if (d === undefined) return false;
  for (const _ in d) return true;
  return false;
}

export function encodePayload(
  args: unknown[] | undefined,
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
  return { payload: Buffer.from(body), properties: WAMP_PROPERTIES };
}

/**
 * A core message published by a WAMP client. When its payload needs JSON, the JSON is only made
 * when someone reads `payload` (another protocol's subscriber, the retained store): WAMP
 * subscribers get the arguments as values (events.ts), so a WAMP-to-WAMP event is never encoded
 * twice (DESIGN.md: no JSON per message on the hot path).
 */
class WampPublishedMessage implements Message {
  qos = 0 as const;
  publisherUser: string | undefined = undefined;
  encoded: Message["encoded"] = undefined;
  recipients: RecipientFilter | undefined = undefined;
  readonly timestamp = Date.now();
  private bytes: Buffer | undefined;

  constructor(
    readonly topic: string,
    public properties: MessageProperties,
    readonly retain: boolean,
    readonly publisherId: string,
    private readonly args: unknown[] | undefined,
    private readonly kwargs: Record<string, unknown> | undefined,
  ) {}

  get payload(): Buffer {
    this.bytes ??= encodePayload(this.args, this.kwargs).payload;
    return this.bytes;
  }

  set payload(b: Buffer) {
    this.bytes = b;
  }
}

/** The core message for a WAMP PUBLISH (see the module comment for the mapping). */
export function createWampMessage(
  topic: string,
  args: unknown[] | undefined,
  kwargs: Record<string, unknown> | undefined,
  retain: boolean,
  publisherId: string,
): Message {
  // Retained messages are copied by the stores with a spread, which would miss a getter: eager.
  if (!retain && (hasKeys(kwargs) || (args !== undefined && args.length > 1))) {
    return new WampPublishedMessage(topic, WAMP_PROPERTIES, retain, publisherId, args, kwargs);
  }
  const v = args?.[0];
  if (!retain && args?.length === 1 && !(v instanceof Uint8Array) && typeof v !== "string") {
    return new WampPublishedMessage(topic, JSON_CONTENT, retain, publisherId, args, kwargs);
  }
  const { payload, properties } = encodePayload(args, kwargs);
  return { topic, payload, qos: 0, retain, properties, publisherId, timestamp: Date.now() };
}

const WAMP_PROPERTIES: MessageProperties = Object.freeze({ contentType: WAMP_CONTENT_TYPE });

function isJsonType(ct: string): boolean {
  return ct === "application/json" || ct.endsWith("+json") || ct.startsWith("application/json;");
}

/** The WAMP arguments a core message carries (see the module comment). */
export function decodePayload(m: Message): RpcPayload {
  const payload = m.payload;
  if (payload.length === 0) return {};
  const ct = m.properties.contentType;
  if (ct !== undefined) {
    if (ct === WAMP_CONTENT_TYPE) {
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
  if (m.properties.payloadIsUtf8 || isUtf8(payload)) return { args: [payload.toString("utf8")] };
  return { args: [payload] };
}

const INVALID = Symbol("invalid");

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString("utf8"));
  } catch {
    return INVALID;
  }
}

function isPlainDict(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
