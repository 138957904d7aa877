/**
 * The SQLite schema and its migrations. The version lives in `PRAGMA user_version`: 0 is a new,
 * empty file; each migration moves it up by one inside a transaction, so a crash mid-migration
 * leaves the previous version intact. A file from a newer Switchboard is refused, not guessed at.
 */
import type Database from "better-sqlite3";
import type { QoS } from "../core/message.js";
import { encodeSegment } from "./delivery-codec.js";
import { MESSAGE_COLUMNS, MESSAGE_COLUMNS_DDL, messageFromValues } from "./message-serialization.js";
import type { StoredDelivery } from "./store.js";

/** migrations[i] takes the schema from version i to i + 1: SQL, or a function for data conversions. */
const migrations: ReadonlyArray<string | ((db: Database.Database) => void)> = [
  `
  CREATE TABLE sessions (
    client_id TEXT PRIMARY KEY,
    protocol TEXT NOT NULL,
    expiry_interval INTEGER NOT NULL,
    disconnected_at INTEGER,
    subscriptions TEXT NOT NULL
  );
  CREATE TABLE deliveries (
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    subscription_id INTEGER,
    packet_id INTEGER,
    state TEXT NOT NULL,
    topic TEXT NOT NULL,${MESSAGE_COLUMNS_DDL},
    PRIMARY KEY (client_id, seq)
  );
  CREATE TABLE retained (
    topic TEXT PRIMARY KEY,${MESSAGE_COLUMNS_DDL}
  );
  CREATE TABLE incoming_qos2 (
    client_id TEXT NOT NULL,
    packet_id INTEGER NOT NULL,
    PRIMARY KEY (client_id, packet_id)
  ) WITHOUT ROWID;
  `,
  // 2: pending wills, shared-subscription group backlogs, named queues and their messages.
  `
  CREATE TABLE wills (
    client_id TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    topic TEXT NOT NULL,${MESSAGE_COLUMNS_DDL}
  );
  CREATE TABLE group_messages (
    group_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    qos INTEGER NOT NULL,
    topic TEXT NOT NULL,${MESSAGE_COLUMNS_DDL},
    PRIMARY KEY (group_key, seq)
  );
  CREATE TABLE queues (
    name TEXT PRIMARY KEY,
    durable INTEGER NOT NULL,
    auto_delete INTEGER NOT NULL,
    arguments TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE queue_messages (
    queue TEXT NOT NULL,
    seq INTEGER NOT NULL,
    delivery_count INTEGER NOT NULL,
    topic TEXT NOT NULL,${MESSAGE_COLUMNS_DDL},
    PRIMARY KEY (queue, seq)
  );
  `,
  // 3: session deliveries as segments, one row per session and commit (sqlite-deliveries.ts).
  (db) => {
    db.exec(`
      CREATE TABLE delivery_segments (
        id INTEGER PRIMARY KEY,
        client_id TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE INDEX delivery_segments_client ON delivery_segments (client_id);
      CREATE TABLE delivery_cursors (
        client_id TEXT PRIMARY KEY,
        done_through INTEGER NOT NULL
      );
      CREATE TABLE delivery_marks (
        client_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        segment_id INTEGER NOT NULL,
        packet_id INTEGER,
        state TEXT NOT NULL,
        PRIMARY KEY (client_id, seq, segment_id)
      ) WITHOUT ROWID;
    `);
    moveDeliveriesToSegments(db);
    db.exec("DROP TABLE deliveries");
  },
];

/** Version 2 -> 3: each session's delivery rows become segments of at most 1,000 deliveries. */
function moveDeliveriesToSegments(db: Database.Database): void {
  const rows = db
    .prepare(
      `SELECT client_id, seq, qos, retain, subscription_id, packet_id, state, ${MESSAGE_COLUMNS.join(", ")} FROM deliveries ORDER BY client_id, seq`,
    )
    .raw(true);
  const insert = db.prepare("INSERT INTO delivery_segments (client_id, data) VALUES (?, ?)");
  let clientId: string | undefined;
  let batch: StoredDelivery[] = [];
  const flush = (): void => {
    if (clientId !== undefined && batch.length > 0) insert.run(clientId, encodeSegment(batch));
    batch = [];
  };
  // all(), not iterate(): better-sqlite3 refuses writes while a read statement is being iterated.
  for (const v of rows.all() as unknown[][]) {
    const id = v[0] as string;
    if (id !== clientId || batch.length >= 1000) {
      flush();
      clientId = id;
    }
    const d: StoredDelivery = {
      clientId: id,
      seq: v[1] as number,
      qos: v[2] as QoS,
      retain: v[3] === 1,
      state: v[6] as StoredDelivery["state"],
      message: messageFromValues(v, 7),
    };
    if (v[4] !== null) d.subscriptionId = v[4] as number;
    if (v[5] !== null) d.packetId = v[5] as number;
    batch.push(d);
  }
  flush();
}

/** The version-1 migration alone, so tests can build a database as Switchboard 1 left it. */
export const MIGRATION_V1 = migrations[0] as string;

export const SCHEMA_VERSION = migrations.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `store schema version ${current} is newer than this Switchboard supports (${SCHEMA_VERSION}); upgrade Switchboard`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      const step = migrations[v]!;
      if (typeof step === "string") db.exec(step);
      else step(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
