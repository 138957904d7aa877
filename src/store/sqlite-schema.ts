/**
 * The SQLite schema and its migrations. The version lives in `PRAGMA user_version`: 0 is a new,
 * empty file; each migration moves it up by one inside a transaction, so a crash mid-migration
 * leaves the previous version intact. A file from a newer Switchboard is refused, not guessed at.
 */
import type Database from "better-sqlite3";
import { MESSAGE_COLUMNS_DDL } from "./message-serialization.js";

/** migrations[i] takes the schema from version i to i + 1. */
const migrations: readonly string[] = [
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
];

/** The version-1 migration alone, so tests can build a database as Switchboard 1 left it. */
export const MIGRATION_V1 = migrations[0]!;

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
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
