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

/** Payloads shorter than this are copied into Node's Buffer pool at load (its pool takes < 4 KiB). */
const POOLED_PAYLOAD = 1024;

/** Returns a shared copy of a string that repeats from row to row (a topic, a client id). */
export type Intern = (s: string) => string;

const noIntern: Intern = (s) => s;

/**
 * An Intern for one load: equal strings come back as one string object (up to `max` distinct ones),
 * so a million queued rows from a few publishers on a few topics keep a few strings, not millions.
 */
export function interner(max = 65_536): Intern {
  const seen = new Map<string, string>();
  return (s) => {
    const had = seen.get(s);
    if (had !== undefined) return had;
    if (seen.size < max) seen.set(s, s);
    return s;
  };
}

/**
 * Decodes the message columns of a raw row (better-sqlite3 `.raw()`: values in SELECT order), the
 * MESSAGE_COLUMNS starting at index `at`; throws on values no Switchboard writes (a damaged or
 * foreign row). Positional, so a load reads each row into its final objects with no row object.
 */
export function messageFromValues(v: readonly unknown[], at: number, intern: Intern = noIntern): Message {
  const topic = v[at];
  let payload = v[at + 1];
  const qos = v[at + 2];
  const ts = v[at + 6];
  if (typeof topic !== "string") throw new Error("topic is not text");
  if (!Buffer.isBuffer(payload)) throw new Error("payload is not a blob");
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error(`invalid message qos ${String(qos)}`);
  if (typeof ts !== "number") throw new Error("timestamp is not an integer");
  // better-sqlite3 gives every blob its own ArrayBuffer; a small payload is copied into Node's shared
  // pool instead, so a million small messages do not hold a million separate allocations.
  if (payload.length < POOLED_PAYLOAD) payload = Buffer.from(payload);
  const properties: MessageProperties = {};
  const contentType = v[at + 7];
  const correlationData = v[at + 8];
  const responseTopic = v[at + 9];
  const expiresAt = v[at + 10];
  const userProperties = v[at + 11];
  const payloadUtf8 = v[at + 12];
  if (contentType !== null) properties.contentType = contentType as string;
  if (correlationData !== null) properties.correlationData = correlationData as Buffer;
  if (responseTopic !== null) properties.responseTopic = responseTopic as string;
  if (expiresAt !== null) properties.expiresAt = expiresAt as number;
  if (userProperties !== null) {
    const up = JSON.parse(userProperties as string) as unknown;
    if (!Array.isArray(up)) throw new Error("user_properties is not a JSON array");
    properties.userProperties = up as Array<[string, string]>;
  }
  if (payloadUtf8 !== null) properties.payloadIsUtf8 = payloadUtf8 === 1;
  const m: Message = {
    topic: intern(topic),
    payload: payload as Buffer,
    qos: qos as QoS,
    retain: v[at + 3] === 1,
    properties,
    publisherId: intern(v[at + 4] as string),
    timestamp: ts,
  };
  const publisherUser = v[at + 5];
  if (publisherUser !== null) m.publisherUser = publisherUser as string;
  return m;
}
