/**
 * AMQP 1.0 message sections (part 3 §3.2) <-> the core Message, mapped as MQTT 5, STOMP and AMQP
 * 0-9-1 map theirs (docs/amqp10.md has the table):
 *
 * - header.durable <-> QoS 1 (persistent); header.ttl and properties.absolute-expiry-time <-> expiry;
 * - properties.content-type <-> content type; correlation-id <-> correlation data; reply-to <->
 *   response topic (`/topic/a.b` <-> `a/b`); message-id, user-id, subject, content-encoding,
 *   group-id and header.priority <-> user properties of those names;
 * - application-properties <-> user properties (values as text);
 * - data sections <-> payload; an amqp-value string is its UTF-8 text, binary its bytes, anything
 *   else its JSON rendering.
 *
 * Between AMQP 1.0 clients nothing is lost: the bare message (properties, application-properties,
 * body, exactly as sent: part 3 §3.2 says it is immutable) travels with the message and goes out
 * unchanged, behind a new header.
 */
import { dottedToTopic, topicToDotted } from "../../core/dotted-names.js";
import type { EncodedCache, Message, MessageProperties, QoS } from "../../core/message.js";
import { expiresAtFromMs, msLeft } from "../../core/metadata.js";
import { DecodeError, Reader } from "./codec/decoder.js";
import { Writer } from "./codec/encoder.js";
import { P } from "./codec/frames.js";
import {
  type AmqpValue,
  bin,
  bool,
  descriptorCode,
  formatUuid,
  list,
  map,
  NULL,
  plain,
  str,
  sym,
  timestamp,
  ubyte,
  uint,
} from "./codec/types.js";

/** Properties carried as user properties under their AMQP 1.0 names. */
const U_MESSAGE_ID = "message-id";
const U_USER_ID = "user-id";
const U_SUBJECT = "subject";
const U_CONTENT_ENCODING = "content-encoding";
const U_GROUP_ID = "group-id";
const U_PRIORITY = "priority";
const RESERVED = new Set([U_MESSAGE_ID, U_USER_ID, U_SUBJECT, U_CONTENT_ENCODING, U_GROUP_ID, U_PRIORITY]);

export interface Amqp10Attachment {
  /** properties + application-properties + body sections, as received. */
  bare: Buffer;
  /** message-annotations as received (map entries), if any. */
  annotations: Array<[AmqpValue, AmqpValue]> | undefined;
  /** The core properties made from the sections: when a copy changes them, `bare` is stale. */
  source: MessageProperties;
}

export type Amqp10Message = Message & { amqp10?: Amqp10Attachment };

/** A message as the broker received it, decoded for routing. */
export interface ReceivedMessage {
  durable: boolean;
  /** properties.to (the anonymous relay routes by it). */
  to: string | undefined;
  subject: string | undefined;
  properties: MessageProperties;
  payload: Buffer;
  attachment: Amqp10Attachment;
}

/** Decodes the sections of one message (the payload of its transfers). Throws DecodeError. */
export function decodeMessage(bytes: Buffer, now: number): ReceivedMessage {
  const r = new Reader(bytes);
  let durable = false;
  let ttl: number | undefined;
  let priority: number | undefined;
  let annotations: Array<[AmqpValue, AmqpValue]> | undefined;
  let bareStart = -1;
  let bareEnd = bytes.length;
  let props: AmqpValue[] = [];
  let appProps: Array<[AmqpValue, AmqpValue]> = [];
  const data: Buffer[] = [];
  let value: AmqpValue | undefined;
  let sequences: AmqpValue[] | undefined;
  let lastCode = 0;
  while (r.remaining > 0) {
    const start = r.pos;
    const section = r.read();
    if (section.type !== "described") throw new DecodeError("message section is not a described type");
    const code = descriptorCode(section);
    if (code === undefined || code < P.header || code > P.footer)
      throw new DecodeError("unknown message section");
    if (code < lastCode || (code === lastCode && code !== P.data && code !== P.amqpSequence)) {
      throw new DecodeError("message sections out of order");
    }
    lastCode = code;
    const v = section.value;
    if (code >= P.properties && bareStart < 0) bareStart = start;
    switch (code) {
      case P.header: {
        const f = v.type === "list" ? v.value : [];
        durable = f[0]?.type === "boolean" && f[0].value;
        if (f[1]?.type === "ubyte") priority = f[1].value;
        if (f[2]?.type === "uint") ttl = f[2].value;
        break;
      }
      case P.messageAnnotations:
        if (v.type === "map") annotations = v.value;
        break;
      case P.properties:
        if (v.type !== "list") throw new DecodeError("properties section is not a list");
        props = v.value;
        break;
      case P.applicationProperties:
        if (v.type !== "map") throw new DecodeError("application-properties is not a map");
        appProps = v.value;
        break;
      case P.data:
        if (v.type !== "binary") throw new DecodeError("data section is not binary");
        data.push(v.value);
        break;
      case P.amqpSequence:
        if (v.type !== "list") throw new DecodeError("amqp-sequence section is not a list");
        if (sequences === undefined) sequences = [];
        sequences.push(v);
        break;
      case P.amqpValue:
        value = v;
        break;
      case P.footer:
        bareEnd = start;
        break;
    }
  }
  const bare = bareStart < 0 ? Buffer.alloc(0) : Buffer.from(bytes.subarray(bareStart, bareEnd));
  const out: MessageProperties = {};
  const user: Array<[string, string]> = [];
  const text = (i: number): string | undefined => idText(props[i]);
  const messageId = text(0);
  if (messageId !== undefined) user.push([U_MESSAGE_ID, messageId]);
  const userId = text(1);
  if (userId !== undefined) user.push([U_USER_ID, userId]);
  const to = text(2);
  const subject = text(3);
  if (subject !== undefined) user.push([U_SUBJECT, subject]);
  const replyTo = text(4);
  if (replyTo !== undefined) out.responseTopic = topicOfAddress(replyTo);
  const corr = props[5];
  if (corr !== undefined && corr.type !== "null") {
    out.correlationData = corr.type === "binary" ? Buffer.from(corr.value) : Buffer.from(idText(corr) ?? "");
  }
  const contentType = text(6);
  if (contentType !== undefined) out.contentType = contentType;
  const contentEncoding = text(7);
  if (contentEncoding !== undefined) user.push([U_CONTENT_ENCODING, contentEncoding]);
  const expiry = props[8]?.type === "timestamp" ? Number(props[8].value) : undefined;
  const groupId = text(10);
  if (groupId !== undefined) user.push([U_GROUP_ID, groupId]);
  if (priority !== undefined && priority !== 4) user.push([U_PRIORITY, String(priority)]);
  // header.ttl counts from now; absolute-expiry-time is absolute: the earlier one applies.
  let expiresAt = ttl !== undefined ? expiresAtFromMs(ttl, now) : undefined;
  if (expiry !== undefined && (expiresAt === undefined || expiry < expiresAt)) expiresAt = expiry;
  if (expiresAt !== undefined) out.expiresAt = expiresAt;
  for (const [k, val] of appProps) {
    const key = k.type === "string" || k.type === "symbol" ? k.value : undefined;
    if (key !== undefined) user.push([key, valueText(val)]);
  }
  if (user.length > 0) out.userProperties = user;
  let payload: Buffer;
  if (data.length > 0) payload = data.length === 1 ? data[0]! : Buffer.concat(data);
  else if (value !== undefined) {
    if (value.type === "string") {
      payload = Buffer.from(value.value, "utf8");
      out.payloadIsUtf8 = true;
    } else if (value.type === "binary") payload = value.value;
    else if (value.type === "null") payload = Buffer.alloc(0);
    else {
      payload = Buffer.from(JSON.stringify(plain(value)), "utf8");
      out.payloadIsUtf8 = true;
    }
  } else if (sequences !== undefined) {
    payload = Buffer.from(JSON.stringify(sequences.flatMap((s) => plain(s) as unknown[])), "utf8");
    out.payloadIsUtf8 = true;
  } else payload = Buffer.alloc(0);
  // The payload must not pin the read buffer: take it from the copied bare message when it is a view.
  if (data.length === 1 && bareStart >= 0) {
    const off = payload.byteOffset - bytes.byteOffset - bareStart;
    if (off >= 0 && off + payload.length <= bare.length && payload.buffer === bytes.buffer) {
      payload = bare.subarray(off, off + payload.length);
    }
  }
  return {
    durable,
    to,
    subject,
    properties: out,
    payload,
    attachment: { bare, annotations, source: out },
  };
}

/** Text of a message-id / correlation-id / string field (ulong, uuid, binary, string). */
function idText(v: AmqpValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  switch (v.type) {
    case "string":
    case "symbol":
      return v.value;
    case "ulong":
      return v.value.toString();
    case "uuid":
      return formatUuid(v.value);
    case "binary":
      return v.value.toString("utf8");
    default:
      return undefined;
  }
}

/** Application-property values are simple types; other protocols see them as text. */
function valueText(v: AmqpValue): string {
  const p = plain(v);
  if (p === null) return "";
  return typeof p === "object" ? JSON.stringify(p) : String(p);
}

/** The canonical topic a reply-to address names (`/topic/a.b` -> `a/b`); other addresses as they are. */
export function topicOfAddress(address: string): string {
  if (address.startsWith("/topic/")) return dottedToTopic(address.slice(7));
  if (address.startsWith("/exchanges/amq.topic/")) return dottedToTopic(address.slice(21));
  return address;
}

export function addressOfTopic(topic: string): string {
  return `/topic/${topicToDotted(topic)}`;
}

// ---- outgoing ----------------------------------------------------------------------------------

const CACHE_KEY = "amqp10";

/**
 * message-annotations + bare message of `m`, encoded once per message and cached: the original bare
 * message of an AMQP 1.0 publisher, or sections made from the core properties.
 */
export function encodedBody(m: Message): Buffer {
  let cache: EncodedCache | undefined = m.encoded;
  const hit = cache?.get(CACHE_KEY);
  if (hit !== undefined) return hit;
  const body = encodeBody(m);
  if (cache === undefined) {
    cache = new Map<string, Buffer>();
    m.encoded = cache;
  }
  cache.set(CACHE_KEY, body);
  return body;
}

function encodeBody(m: Message): Buffer {
  const a = (m as Amqp10Message).amqp10;
  const w = new Writer(128 + m.payload.length);
  // message-annotations: x-routing-key tells a wildcard subscriber the topic (as RabbitMQ does).
  const ann: Array<[AmqpValue, AmqpValue]> = [[sym("x-routing-key"), str(topicToDotted(m.topic))]];
  if (a?.annotations) for (const e of a.annotations) if (!isRoutingKey(e[0])) ann.push(e);
  w.value({
    type: "described",
    descriptor: { type: "ulong", value: BigInt(P.messageAnnotations) },
    value: map(ann),
  });
  if (a !== undefined && a.source === m.properties) {
    w.bytes(a.bare);
    return w.result();
  }
  const mp = m.properties;
  const up = mp.userProperties;
  const get = (name: string): string | undefined => {
    if (up === undefined) return undefined;
    for (const [k, v] of up) if (k === name) return v;
    return undefined;
  };
  const props: AmqpValue[] = [
    opt(get(U_MESSAGE_ID), str),
    opt(get(U_USER_ID), (s) => bin(Buffer.from(s, "utf8"))),
    NULL, // to
    opt(get(U_SUBJECT), str),
    opt(mp.responseTopic, (t) => str(addressOfTopic(t))),
    opt(mp.correlationData, correlationValue),
    opt(mp.contentType, sym),
    opt(get(U_CONTENT_ENCODING), sym),
    opt(mp.expiresAt, timestamp),
    timestamp(m.timestamp),
    opt(get(U_GROUP_ID), str),
  ];
  w.value(section(P.properties, list(props)));
  if (up !== undefined) {
    const seen = new Set<string>();
    const entries: Array<[AmqpValue, AmqpValue]> = [];
    for (const [k, v] of up) {
      if (RESERVED.has(k) || seen.has(k)) continue;
      seen.add(k);
      entries.push([str(k), str(v)]);
    }
    if (entries.length > 0) w.value(section(P.applicationProperties, map(entries)));
  }
  w.value(section(P.data, bin(m.payload)));
  return w.result();
}

function isRoutingKey(k: AmqpValue): boolean {
  return k.type === "symbol" && k.value === "x-routing-key";
}

function correlationValue(b: Buffer): AmqpValue {
  const s = b.toString("utf8");
  return Buffer.byteLength(s, "utf8") === b.length && !s.includes("\ufffd") ? str(s) : bin(b);
}

function opt<T>(v: T | undefined, f: (v: T) => AmqpValue): AmqpValue {
  return v === undefined ? NULL : f(v);
}

function section(code: number, value: AmqpValue): AmqpValue {
  return { type: "described", descriptor: { type: "ulong", value: BigInt(code) }, value };
}

/** The header section of one delivery (part 3 §3.2.1), or an empty buffer when all its fields are defaults. */
export function encodeHeader(
  qos: QoS,
  expiresAt: number | undefined,
  deliveryCount: number,
  now: number,
): Buffer {
  const durable = qos > 0;
  const ttl = expiresAt === undefined ? undefined : msLeft(expiresAt, now);
  const count = deliveryCount > 1 ? deliveryCount - 1 : 0;
  if (!durable && ttl === undefined && count === 0) return EMPTY;
  if (durable && ttl === undefined && count === 0) return DURABLE_HEADER;
  const w = new Writer(32);
  w.value(
    section(
      P.header,
      list([
        bool(durable),
        ubyte(4),
        ttl === undefined ? NULL : uint(Math.min(ttl, 0xffffffff)),
        bool(false),
        uint(count),
      ]),
    ),
  );
  return w.result();
}

const EMPTY = Buffer.alloc(0);
const DURABLE_HEADER = (() => {
  const w = new Writer(16);
  w.value(section(P.header, list([bool(true)])));
  return w.result();
})();
