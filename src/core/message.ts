/**
 * The protocol-independent message. Every adapter maps its protocol's metadata to and from these
 * fields the same way (DESIGN.md "One model underneath").
 */

import { secondsLeft } from "./metadata.js";
import type { RecipientFilter } from "./recipients.js";

export type QoS = 0 | 1 | 2;

export interface MessageProperties {
  contentType?: string;
  correlationData?: Buffer;
  /** Reply-to: where a responder should publish its answer (canonical topic form). */
  responseTopic?: string;
  /** Absolute expiry time in ms since the epoch; absent = never expires. */
  expiresAt?: number;
  /** Application headers / MQTT user properties / AMQP application-properties, order kept. */
  userProperties?: Array<[string, string]>;
  /** True when the publisher declared the payload to be UTF-8 text (MQTT payload format indicator 1). */
  payloadIsUtf8?: boolean;
}

/**
 * The properties of a message that has none: one shared frozen object instead of an empty one per
 * message. Nothing writes to a message's properties in place (writers build their own object), and
 * an accidental write throws (modules are strict mode) instead of leaking into other messages.
 */
export const NO_PROPERTIES: MessageProperties = Object.freeze({}) as MessageProperties;

/** What Message.encoded needs of its cache: a Map does, and so does a lighter adapter-made one. */
export interface EncodedCache {
  get(key: string): Buffer | undefined;
  set(key: string, bytes: Buffer): unknown;
  /**
   * For detachFromReadBuffer: copies the cached bytes that hold `payload` out of the read buffer
   * and returns the payload as a view into that copy (one copy serves both, and the encoding is
   * kept for the delivery that follows); undefined when no cached entry holds it.
   */
  detach?(payload: Buffer): Buffer | undefined;
}

export interface Message {
  /** Canonical topic: MQTT form, levels separated by "/". */
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: MessageProperties;
  /** Identity of the publishing session ("" for the broker itself, e.g. $SYS). */
  publisherId: string;
  /** Principal (user name) of the publisher, when authenticated. */
  publisherUser?: string;
  /** When the router accepted it (ms since the epoch). */
  timestamp: number;
  /**
   * Encoded-bytes cache, written by adapters: one entry per (protocol, variant) so a message sent to
   * many subscribers is encoded once (DESIGN.md hot-path rules). Never persisted.
   */
  encoded?: EncodedCache;
  /** Who may receive it beyond the subscription match (publisher exclusion, black/white lists). */
  recipients?: RecipientFilter;
  /**
   * What the WAMP adapter works out once per publication (its id, decoded arguments, encoded
   * EVENTs: src/protocols/wamp/events.ts). A field, not a WeakMap keyed by message: WeakMap entries
   * for short-lived keys make every young-generation GC slower. Never persisted.
   */
  wampEvent?: unknown;
}

export function createMessage(
  topic: string,
  payload: Buffer,
  qos: QoS = 0,
  retain = false,
  properties: MessageProperties = NO_PROPERTIES,
  publisherId = "",
  timestamp = Date.now(),
): Message {
  return { topic, payload, qos, retain, properties, publisherId, timestamp };
}

/** Seconds left before expiry (rounded up), or undefined when the message never expires. */
export function remainingExpirySeconds(msg: Message, now: number): number | undefined {
  const at = msg.properties.expiresAt;
  if (at === undefined) return undefined;
  return secondsLeft(at, now);
}

export function isExpired(msg: Message, now: number): boolean {
  const at = msg.properties.expiresAt;
  return at !== undefined && at <= now;
}

/** A Buffer is "pinning" when it is a small view into a much larger backing store. */
function pins(b: Buffer): boolean {
  return b.buffer.byteLength > 2 * b.byteLength + 8192;
}

/**
 * Decoders hand out payloads as views into the socket read buffer (no copy on the hot path), and
 * adapters cache encoded bytes that may be views too. A message that is kept — queued for a
 * session, in flight, retained, in a group backlog — must not keep a whole read buffer (often
 * 64 KiB) alive for a few bytes: its payload (and correlation data) are copied once, and the
 * encoded-bytes cache is dropped, unless it holds the payload (an MQTT PUBLISH kept as it arrived):
 * then that packet is copied and the payload becomes a view into it. A message already detached is
 * left as it is.
 */
export function detachFromReadBuffer(m: Message): void {
  if (pins(m.payload)) {
    const kept = m.encoded?.detach?.(m.payload);
    if (kept !== undefined) m.payload = kept;
    else {
      m.payload = Buffer.from(m.payload);
      m.encoded = undefined;
    }
  }
  const cd = m.properties.correlationData;
  if (cd !== undefined && pins(cd)) {
    m.properties = { ...m.properties, correlationData: Buffer.from(cd) };
    m.encoded = undefined;
  }
}
