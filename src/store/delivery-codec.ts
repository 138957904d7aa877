/**
 * The binary layout of a delivery segment: the deliveries one session got in one group commit,
 * written as one SQLite row (sqlite-store.ts). One row per commit and session instead of one per
 * message is what makes a durable queue cheap: a tick that queues a hundred messages costs one
 * INSERT, and draining them costs one DELETE (see delivery-segments.ts).
 *
 * A segment is a sequence of entries, little-endian:
 *   seq f64 · flags u32 · [subscriptionId u32] · [packetId u16] · timestamp f64 ·
 *   topic str · publisherId str · payload bytes ·
 *   [publisherUser str] [contentType str] [correlationData bytes] [responseTopic str]
 *   [expiresAt f64] [userProperties: count u32, then name str · value str per pair]
 * where str and bytes are a u32 byte length and the bytes (UTF-8 for str), and flags say which of
 * the bracketed fields are present (FLAG_* below). Absent and present-but-empty stay distinct, as in
 * the row layout of message-serialization.ts.
 */
import type { Message, MessageProperties, QoS } from "../core/message.js";
import type { StoredDelivery } from "./store.js";

const QOS_MASK = 0x3; // bits 0-1: delivery QoS
const RETAIN = 1 << 2;
const M_QOS_SHIFT = 3; // bits 3-4: the message's own QoS
const M_RETAIN = 1 << 5;
const SUBSCRIPTION_ID = 1 << 6;
const PACKET_ID = 1 << 7;
const STATE_SHIFT = 8; // bits 8-9: 0 queued, 1 publish, 2 pubrel
const PUBLISHER_USER = 1 << 10;
const CONTENT_TYPE = 1 << 11;
const CORRELATION_DATA = 1 << 12;
const RESPONSE_TOPIC = 1 << 13;
const EXPIRES_AT = 1 << 14;
const USER_PROPERTIES = 1 << 15;
const UTF8_SET = 1 << 16; // payloadIsUtf8 present ...
const UTF8_TRUE = 1 << 17; // ... and true

const STATES: readonly StoredDelivery["state"][] = ["queued", "publish", "pubrel"];

/** Grows as needed and is reused: encoding a segment allocates only its final copy. */
let scratch = Buffer.allocUnsafe(64 * 1024);

function ensure(at: number, more: number): void {
  if (at + more <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + more));
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

function putString(at: number, s: string): number {
  ensure(at, 4 + s.length * 3);
  const n = scratch.write(s, at + 4, "utf8");
  scratch.writeUInt32LE(n, at);
  return at + 4 + n;
}

function putBytes(at: number, b: Buffer): number {
  ensure(at, 4 + b.length);
  scratch.writeUInt32LE(b.length, at);
  b.copy(scratch, at + 4);
  return at + 4 + b.length;
}

/** Encodes `deliveries` (their clientId is not written: the row holds it) into one new Buffer. */
export function encodeSegment(deliveries: readonly StoredDelivery[]): Buffer {
  let at = 0;
  for (const d of deliveries) {
    const m = d.message;
    const p = m.properties;
    let flags = d.qos | (m.qos << M_QOS_SHIFT) | (STATES.indexOf(d.state) << STATE_SHIFT);
    if (d.retain) flags |= RETAIN;
    if (m.retain) flags |= M_RETAIN;
    if (d.subscriptionId !== undefined) flags |= SUBSCRIPTION_ID;
    if (d.packetId !== undefined) flags |= PACKET_ID;
    if (m.publisherUser !== undefined) flags |= PUBLISHER_USER;
    if (p.contentType !== undefined) flags |= CONTENT_TYPE;
    if (p.correlationData !== undefined) flags |= CORRELATION_DATA;
    if (p.responseTopic !== undefined) flags |= RESPONSE_TOPIC;
    if (p.expiresAt !== undefined) flags |= EXPIRES_AT;
    if (p.userProperties !== undefined) flags |= USER_PROPERTIES;
    if (p.payloadIsUtf8 !== undefined) flags |= p.payloadIsUtf8 ? UTF8_SET | UTF8_TRUE : UTF8_SET;
    ensure(at, 30);
    scratch.writeDoubleLE(d.seq, at);
    scratch.writeUInt32LE(flags >>> 0, at + 8);
    at += 12;
    if (d.subscriptionId !== undefined) {
      scratch.writeUInt32LE(d.subscriptionId, at);
      at += 4;
    }
    if (d.packetId !== undefined) {
      scratch.writeUInt16LE(d.packetId, at);
      at += 2;
    }
    scratch.writeDoubleLE(m.timestamp, at);
    at += 8;
    at = putString(at, m.topic);
    at = putString(at, m.publisherId);
    at = putBytes(at, m.payload);
    if (m.publisherUser !== undefined) at = putString(at, m.publisherUser);
    if (p.contentType !== undefined) at = putString(at, p.contentType);
    if (p.correlationData !== undefined) at = putBytes(at, p.correlationData);
    if (p.responseTopic !== undefined) at = putString(at, p.responseTopic);
    if (p.expiresAt !== undefined) {
      ensure(at, 8);
      scratch.writeDoubleLE(p.expiresAt, at);
      at += 8;
    }
    if (p.userProperties !== undefined) {
      ensure(at, 4);
      scratch.writeUInt32LE(p.userProperties.length, at);
      at += 4;
      for (const [k, v] of p.userProperties) {
        at = putString(at, k);
        at = putString(at, v);
      }
    }
  }
  return Buffer.from(scratch.subarray(0, at));
}

/** Reads entries off one segment; throws on bytes no Switchboard writes (a damaged row). */
class SegmentReader {
  at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error("segment is truncated");
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  string(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }

  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const view = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    // A copy (small ones into Node's shared pool), so a delivery that outlives the others of its
    // segment does not keep the whole row alive.
    return Buffer.from(view);
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }
}

/**
 * Decodes every entry of a segment in order, calling `visit` with each delivery (clientId set to
 * `clientId`). `intern` shares repeated strings (topics, publisher ids) across a load.
 */
export function decodeSegment(
  buf: Buffer,
  clientId: string,
  intern: (s: string) => string,
  visit: (d: StoredDelivery) => void,
): void {
  const r = new SegmentReader(buf);
  while (!r.done) {
    const seq = r.f64();
    const flags = r.u32();
    const qos = flags & QOS_MASK;
    const mQos = (flags >>> M_QOS_SHIFT) & QOS_MASK;
    const state = STATES[(flags >>> STATE_SHIFT) & 0x3];
    if (qos === 3 || mQos === 3 || state === undefined || !Number.isInteger(seq)) {
      throw new Error(`invalid segment entry at byte ${r.at - 12}`);
    }
    const subscriptionId = flags & SUBSCRIPTION_ID ? r.u32() : undefined;
    const packetId = flags & PACKET_ID ? r.u16() : undefined;
    const timestamp = r.f64();
    const topic = intern(r.string());
    const publisherId = intern(r.string());
    const payload = r.bytes();
    const publisherUser = flags & PUBLISHER_USER ? r.string() : undefined;
    const properties: MessageProperties = {};
    if (flags & CONTENT_TYPE) properties.contentType = r.string();
    if (flags & CORRELATION_DATA) properties.correlationData = r.bytes();
    if (flags & RESPONSE_TOPIC) properties.responseTopic = r.string();
    if (flags & EXPIRES_AT) properties.expiresAt = r.f64();
    if (flags & USER_PROPERTIES) {
      const n = r.u32();
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) pairs.push([r.string(), r.string()]);
      properties.userProperties = pairs;
    }
    if (flags & UTF8_SET) properties.payloadIsUtf8 = (flags & UTF8_TRUE) !== 0;
    const message: Message = {
      topic,
      payload,
      qos: mQos as QoS,
      retain: (flags & M_RETAIN) !== 0,
      properties,
      publisherId,
      timestamp,
    };
    if (publisherUser !== undefined) message.publisherUser = publisherUser;
    const d: StoredDelivery = {
      clientId,
      seq,
      message,
      qos: qos as QoS,
      retain: (flags & RETAIN) !== 0,
      state,
    };
    if (subscriptionId !== undefined) d.subscriptionId = subscriptionId;
    if (packetId !== undefined) d.packetId = packetId;
    visit(d);
  }
}
