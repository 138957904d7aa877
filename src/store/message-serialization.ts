/**
 * How a Message is laid out in SQLite: one column per field, so the payload and the correlation data
 * are raw BLOBs (no base64, no copy into a JSON string) and absent properties cost a NULL. Only the
 * user properties, an ordered list of pairs with duplicates allowed, are a small JSON array.
 * `encoded` is a runtime cache and is never written.
 *
 * Absent and present-but-empty stay distinct: `correlationData: Buffer.alloc(0)` comes back as an
 * empty Buffer, `userProperties: []` as an empty array, `payloadIsUtf8: false` as false.
 */
import type { Message, MessageProperties, QoS } from "../core/message.js";

/** The message columns, in the order messageParams() emits them (the table DDL uses the same list). */
export const MESSAGE_COLUMNS = [
  "topic",
  "payload",
  "m_qos",
  "m_retain",
  "publisher_id",
  "publisher_user",
  "ts",
  "content_type",
  "correlation_data",
  "response_topic",
  "expires_at",
  "user_properties",
  "payload_utf8",
] as const;

/** Column definitions for CREATE TABLE (topic is declared by each table: it is the key of `retained`). */
export const MESSAGE_COLUMNS_DDL = `
  payload BLOB NOT NULL,
  m_qos INTEGER NOT NULL,
  m_retain INTEGER NOT NULL,
  publisher_id TEXT NOT NULL,
  publisher_user TEXT,
  ts INTEGER NOT NULL,
  content_type TEXT,
  correlation_data BLOB,
  response_topic TEXT,
  expires_at INTEGER,
  user_properties TEXT,
  payload_utf8 INTEGER`;

export type SqlValue = string | number | bigint | Buffer | null;

/** A row as better-sqlite3 returns it for the message columns. */
export interface MessageRow {
  topic: string;
  payload: Buffer;
  m_qos: number;
  m_retain: number;
  publisher_id: string;
  publisher_user: string | null;
  ts: number;
  content_type: string | null;
  correlation_data: Buffer | null;
  response_topic: string | null;
  expires_at: number | null;
  user_properties: string | null;
  payload_utf8: number | null;
}

/** Appends the message's column values, in MESSAGE_COLUMNS order, to `out`. */
export function pushMessageParams(out: SqlValue[], m: Message): void {
  const p = m.properties;
  out.push(
    m.topic,
    m.payload,
    m.qos,
    m.retain ? 1 : 0,
    m.publisherId,
    m.publisherUser ?? null,
    m.timestamp,
    p.contentType ?? null,
    p.correlationData ?? null,
    p.responseTopic ?? null,
    p.expiresAt ?? null,
    p.userProperties === undefined ? null : JSON.stringify(p.userProperties),
    p.payloadIsUtf8 === undefined ? null : p.payloadIsUtf8 ? 1 : 0,
  );
}

/** Decodes the message columns; throws on values no Switchboard writes (a damaged or foreign row). */
export function messageFromRow(r: MessageRow): Message {
  if (typeof r.topic !== "string") throw new Error("topic is not text");
  if (!Buffer.isBuffer(r.payload)) throw new Error("payload is not a blob");
  if (r.m_qos !== 0 && r.m_qos !== 1 && r.m_qos !== 2) throw new Error(`invalid message qos ${r.m_qos}`);
  if (typeof r.ts !== "number") throw new Error("timestamp is not an integer");
  const properties: MessageProperties = {};
  if (r.content_type !== null) properties.contentType = r.content_type;
  if (r.correlation_data !== null) properties.correlationData = r.correlation_data;
  if (r.response_topic !== null) properties.responseTopic = r.response_topic;
  if (r.expires_at !== null) properties.expiresAt = r.expires_at;
  if (r.user_properties !== null) {
    const up = JSON.parse(r.user_properties) as unknown;
    if (!Array.isArray(up)) throw new Error("user_properties is not a JSON array");
    properties.userProperties = up as Array<[string, string]>;
  }
  if (r.payload_utf8 !== null) properties.payloadIsUtf8 = r.payload_utf8 === 1;
  const m: Message = {
    topic: r.topic,
    payload: r.payload,
    qos: r.m_qos as QoS,
    retain: r.m_retain === 1,
    properties,
    publisherId: r.publisher_id,
    timestamp: r.ts,
  };
  if (r.publisher_user !== null) m.publisherUser = r.publisher_user;
  return m;
}
