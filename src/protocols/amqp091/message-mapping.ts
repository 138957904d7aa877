/**
 * AMQP 0-9-1 content properties <-> core Message (docs/amqp.md has the table). The common properties
 * map as for MQTT 5 and STOMP: content-type, correlation-id (correlation data), reply-to (response
 * topic, dotted <-> slashed like routing keys), expiration (expiry), headers (user properties, as
 * text). The AMQP-only properties travel as user properties named after them, so every protocol shows
 * them (STOMP as headers, MQTT 5 as user properties) and AMQP gets them back as properties. A message
 * without an AMQP publisher's `timestamp` is delivered with the router's (when it took the message).
 *
 * Between AMQP clients nothing is lost: the decoded properties (typed header values included) stay
 * attached to the message for as long as its core properties are the ones made from them.
 */
import { dottedToTopic, topicToDotted } from "../../core/dotted-names.js";
import type { Message, MessageProperties } from "../../core/message.js";
import { correlationIdToBytes, correlationIdToText, expiresAtFromMs, msLeft } from "../../core/metadata.js";
import type { BasicProperties } from "./codec/properties.js";
import { type FieldTable, type FieldValue, setField } from "./codec/reader.js";

export interface AmqpAttachment {
  /** The exchange and routing key it was published with. */
  exchange: string;
  routingKey: string;
  props: BasicProperties;
  /** The core properties made from `props`: when a copy changes them (dead-lettering), props are stale. */
  source: MessageProperties;
}

export type AmqpMessage = Message & { amqp?: AmqpAttachment };

/** AMQP-only properties carried as user properties under these names. */
const P_CONTENT_ENCODING = "content-encoding";
const P_PRIORITY = "priority";
const P_MESSAGE_ID = "message-id";
const P_TIMESTAMP = "timestamp";
const P_TYPE = "type";
const P_USER_ID = "user-id";
const P_APP_ID = "app-id";
const RESERVED = new Set([
  P_CONTENT_ENCODING,
  P_PRIORITY,
  P_MESSAGE_ID,
  P_TIMESTAMP,
  P_TYPE,
  P_USER_ID,
  P_APP_ID,
]);

/** Parses the expiration property: a non-negative integer of milliseconds, else undefined (406). */
export function parseExpiration(expiration: string): number | undefined {
  if (!/^\d{1,15}$/.test(expiration)) return undefined;
  return Number(expiration);
}

export function coreProperties(props: BasicProperties, now: number): MessageProperties {
  const out: MessageProperties = {};
  if (props.contentType !== undefined) out.contentType = props.contentType;
  if (props.correlationId !== undefined) out.correlationData = correlationIdToBytes(props.correlationId);
  if (props.replyTo !== undefined) out.responseTopic = dottedToTopic(props.replyTo);
  if (props.expiration !== undefined) {
    const ms = parseExpiration(props.expiration);
    if (ms !== undefined) out.expiresAt = expiresAtFromMs(ms, now);
  }
  const user: Array<[string, string]> = [];
  if (props.headers) for (const k of Object.keys(props.headers)) user.push([k, fieldText(props.headers[k]!)]);
  if (props.contentEncoding !== undefined) user.push([P_CONTENT_ENCODING, props.contentEncoding]);
  if (props.priority !== undefined) user.push([P_PRIORITY, String(props.priority)]);
  if (props.messageId !== undefined) user.push([P_MESSAGE_ID, props.messageId]);
  if (props.timestamp !== undefined) user.push([P_TIMESTAMP, String(props.timestamp)]);
  if (props.type !== undefined) user.push([P_TYPE, props.type]);
  if (props.userId !== undefined) user.push([P_USER_ID, props.userId]);
  if (props.appId !== undefined) user.push([P_APP_ID, props.appId]);
  if (user.length > 0) out.userProperties = user;
  return out;
}

/** The message's AMQP properties for a delivery now. */
export function deliveryProperties(message: Message, now: number): BasicProperties {
  const a = (message as AmqpMessage).amqp;
  if (a !== undefined && a.source === message.properties) return a.props;
  const mp = message.properties;
  const p: BasicProperties = {};
  if (mp.contentType !== undefined) p.contentType = mp.contentType;
  // Bytes that are not UTF-8 (MQTT 5 Correlation Data) as `base64:…`, as STOMP writes them: two
  // different ids never read the same (docs/metadata.md).
  if (mp.correlationData !== undefined) p.correlationId = shortText(correlationIdToText(mp.correlationData));
  if (mp.responseTopic !== undefined) p.replyTo = shortText(topicToDotted(mp.responseTopic));
  if (mp.expiresAt !== undefined) p.expiration = String(msLeft(mp.expiresAt, now));
  if (message.qos > 0) p.deliveryMode = 2;
  const user = mp.userProperties;
  if (user !== undefined) {
    let headers: FieldTable | undefined;
    for (const [k, v] of user) {
      if (!RESERVED.has(k)) {
        headers ??= {};
        setField(headers, k, v);
        continue;
      }
      if (k === P_CONTENT_ENCODING) p.contentEncoding = shortText(v);
      else if (k === P_PRIORITY) p.priority = octetOf(v);
      else if (k === P_MESSAGE_ID) p.messageId = shortText(v);
      else if (k === P_TIMESTAMP) p.timestamp = Number(v) || 0;
      else if (k === P_TYPE) p.type = shortText(v);
      else if (k === P_USER_ID) p.userId = shortText(v);
      else if (k === P_APP_ID) p.appId = shortText(v);
    }
    if (headers !== undefined) p.headers = headers;
  }
  // No AMQP publisher's own `timestamp`: the core's, when the router took the message (seconds, as
  // AMQP 1.0's creation-time carries it in ms; docs/metadata.md "timestamp").
  if (p.timestamp === undefined) p.timestamp = Math.floor(message.timestamp / 1000);
  return p;
}

/** Headers for the headers exchange: typed when the message came over AMQP, text otherwise. */
export function amqpHeadersOf(message: Message): FieldTable | undefined {
  const a = (message as AmqpMessage).amqp;
  if (a !== undefined && a.source === message.properties) return a.props.headers;
  const user = message.properties.userProperties;
  if (user === undefined) return undefined;
  const out: FieldTable = {};
  for (const [k, v] of user) setField(out, k, v);
  return out;
}

/** The exchange and routing key a consumer sees: as published, or amq.topic + the dotted topic. */
export function deliveryAddress(message: Message): { exchange: string; routingKey: string } {
  const a = (message as AmqpMessage).amqp;
  if (a !== undefined) return a;
  return { exchange: "amq.topic", routingKey: topicToDotted(message.topic) };
}

function fieldText(v: FieldValue): string {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (v === null) return "";
  if (typeof v === "object") {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  }
  return String(v);
}

function octetOf(v: string): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : 0;
}

/** shortstr fields hold at most 255 bytes. */
function shortText(s: string): string {
  return Buffer.byteLength(s) <= 255 ? s : Buffer.from(s).subarray(0, 255).toString("utf8");
}
