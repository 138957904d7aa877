/**
 * WAMP events and the core Message (docs/wamp.md "Payload mapping"). The mapping itself is the
 * core's (src/core/rpc-payload.ts), shared with every protocol that carries RPC as bytes; this
 * module adds what is WAMP's own: a published message whose JSON is made only when another
 * protocol reads it. Each direction undoes the other, so a payload crosses MQTT -> WAMP -> MQTT
 * unchanged (JSON is re-encoded in JSON.stringify's canonical form).
 */
import type { RpcPayload } from "../../core/dealer/index.js";
import type { Message, MessageProperties } from "../../core/message.js";
import type { RecipientFilter } from "../../core/recipients.js";
import {
  decodeRpcPayload,
  type EncodedPayload,
  encodeArgs,
  hasKeys,
  RPC_ARGS_CONTENT_TYPE,
} from "../../core/rpc-payload.js";

export type { EncodedPayload };

/** A message's Arguments|list and ArgumentsKw|dict as the core's RpcPayload (absent ones left out). */
export function argsOf(args: unknown[] | undefined, kwargs: Record<string, unknown> | undefined): RpcPayload {
  if (kwargs !== undefined) return { args: args ?? [], kwargs };
  return args !== undefined ? { args } : {};
}

export const WAMP_CONTENT_TYPE = RPC_ARGS_CONTENT_TYPE;
const JSON_CONTENT: MessageProperties = Object.freeze({ contentType: "application/json" });

/** Bytes and properties for WAMP arguments (src/core/rpc-payload.ts). */
export const encodePayload = encodeArgs;

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
  wampEvent: unknown = undefined;
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

/** The WAMP arguments a core message carries (src/core/rpc-payload.ts). */
export function decodePayload(m: Message): RpcPayload {
  return decodeRpcPayload(m.payload, m.properties);
}
