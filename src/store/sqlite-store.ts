/**
 * The embedded SQLite Store (DESIGN.md "Store"): one file, `switchboard.db`, in the data directory.
 *
 * Hot path: a write is a synchronous push onto an in-memory batch, no I/O. The batch is applied in
 * ONE transaction (group commit) on setImmediate, so every write of a tick shares one transaction and
 * one fsync; commit() returns a promise that resolves after the transaction that covers every write
 * made before the call. Calls to commit() in the same tick share one promise. Writes made without a
 * commit() are flushed the same way, so durability never depends on a caller remembering to commit.
 *
 * Durability:
 * - "full" (default): WAL with `synchronous = FULL`: the WAL is fsynced at every commit, so an
 *   acknowledged write survives SIGKILL of the process, an OS crash and power loss. (With WAL,
 *   `NORMAL` already survives SIGKILL of the process alone; FULL is what covers the OS and power.)
 * - "relaxed": the batch is applied every `relaxedIntervalMs` (default 1000) with
 *   `synchronous = NORMAL`, and commit() resolves at once. A crash of the process or of the machine
 *   loses the writes of the last interval, including messages that were already acknowledged
 *   (PUBACK/PUBREC sent); an OS crash or power loss may also lose the last few transactions.
 *   Trades that for throughput. If a background flush fails, the next commit() rejects with the error
 *   and the writes stay queued for the next attempt.
 *
 * Coalescing: within one batch, a write to a row (a delivery, a retained topic, a session, an
 * incoming QoS 2 id) makes any earlier pending write to the same row dead, and it is dropped. Every
 * row write fully determines that row (upsert or delete), so the end state is the same as applying
 * every op in order; e.g. a delivery queued and acknowledged in the same tick costs one DELETE, and a
 * retained topic updated a thousand times in a tick costs one UPSERT. deleteSession also removes the
 * session's deliveries and incoming ids, so a later write never drops it. Ops are applied in order.
 *
 * better-sqlite3 is synchronous: the transaction runs on the event loop thread. Small batches take
 * microseconds plus the fsync; a very large batch blocks the loop for its duration.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Message, QoS } from "../core/message.js";
import {
  MESSAGE_COLUMNS,
  type MessageRow,
  messageFromRow,
  pushMessageParams,
  type SqlValue,
} from "./message-serialization.js";
import { migrate } from "./sqlite-schema.js";
import type { Store, StoredDelivery, StoredSession, StoredState, StoredSubscription } from "./store.js";

export interface SqliteStoreOptions {
  /** Data directory; created if missing. The database is `<dir>/switchboard.db`. */
  dir: string;
  durability?: "full" | "relaxed";
  /** With durability "relaxed": how often the batch is written (ms). Default 1000. */
  relaxedIntervalMs?: number;
}

export const SQLITE_FILE_NAME = "switchboard.db";

type Op =
  | { k: "saveSession"; session: StoredSession }
  | { k: "deleteSession"; clientId: string }
  | { k: "saveDelivery"; delivery: StoredDelivery }
  | { k: "deleteDelivery"; clientId: string; seq: number }
  | { k: "setRetained"; message: Message }
  | { k: "deleteRetained"; topic: string }
  | { k: "addQos2"; clientId: string; packetId: number }
  | { k: "deleteQos2"; clientId: string; packetId: number };

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface SessionRow {
  client_id: string;
  protocol: string;
  expiry_interval: number;
  disconnected_at: number | null;
  subscriptions: string;
}

interface DeliveryRow extends MessageRow {
  client_id: string;
  seq: number;
  qos: number;
  retain: number;
  subscription_id: number | null;
  packet_id: number | null;
  state: StoredDelivery["state"];
}

const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
const MSG_COLS = MESSAGE_COLUMNS.join(", ");
const DELIVERY_COLS = `client_id, seq, qos, retain, subscription_id, packet_id, state, ${MSG_COLS}`;

/** Row keys for coalescing; the last "\0" separates a string from a number, so keys are unique. */
const deliveryKey = (clientId: string, seq: number): string => `d${clientId}\0${seq}`;
const qos2Key = (clientId: string, packetId: number): string => `q${clientId}\0${packetId}`;

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly path: string;
  private readonly db: Database.Database;
  private readonly relaxed: boolean;
  private readonly stmts;
  private readonly applyBatch: (ops: Array<Op | undefined>) => void;
  /** Pending ops in write order; a coalesced (dead) op is left as undefined. */
  private batch: Array<Op | undefined> = [];
  /** Row key -> index in `batch` of the last pending write to that row. */
  private lastWrite = new Map<string, number>();
  private waiting: Deferred | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private interval: NodeJS.Timeout | undefined;
  private backgroundError: unknown;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.path = join(opts.dir, SQLITE_FILE_NAME);
    this.relaxed = opts.durability === "relaxed";
    this.db = new Database(this.path);
    try {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${this.relaxed ? "NORMAL" : "FULL"}`);
      migrate(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.stmts = this.prepare();
    this.applyBatch = this.db.transaction((ops: Array<Op | undefined>) => {
      for (const op of ops) if (op) this.apply(op);
    });
    if (this.relaxed) {
      const ms = opts.relaxedIntervalMs ?? 1000;
      this.interval = setInterval(() => this.backgroundFlush(), ms);
      this.interval.unref();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      upsertSession: db.prepare(
        "INSERT OR REPLACE INTO sessions (client_id, protocol, expiry_interval, disconnected_at, subscriptions) VALUES (?, ?, ?, ?, ?)",
      ),
      deleteSession: db.prepare("DELETE FROM sessions WHERE client_id = ?"),
      deleteSessionDeliveries: db.prepare("DELETE FROM deliveries WHERE client_id = ?"),
      deleteSessionQos2: db.prepare("DELETE FROM incoming_qos2 WHERE client_id = ?"),
      upsertDelivery: db.prepare(
        `INSERT OR REPLACE INTO deliveries (${DELIVERY_COLS}) VALUES (${placeholders(7 + MESSAGE_COLUMNS.length)})`,
      ),
      deleteDelivery: db.prepare("DELETE FROM deliveries WHERE client_id = ? AND seq = ?"),
      upsertRetained: db.prepare(
        `INSERT OR REPLACE INTO retained (${MSG_COLS}) VALUES (${placeholders(MESSAGE_COLUMNS.length)})`,
      ),
      deleteRetained: db.prepare("DELETE FROM retained WHERE topic = ?"),
      addQos2: db.prepare("INSERT OR IGNORE INTO incoming_qos2 (client_id, packet_id) VALUES (?, ?)"),
      deleteQos2: db.prepare("DELETE FROM incoming_qos2 WHERE client_id = ? AND packet_id = ?"),
      loadSessions: db.prepare("SELECT * FROM sessions"),
      loadDeliveries: db.prepare(`SELECT ${DELIVERY_COLS} FROM deliveries ORDER BY seq, client_id`),
      loadRetained: db.prepare(`SELECT ${MSG_COLS} FROM retained`),
      loadQos2: db.prepare("SELECT client_id, packet_id FROM incoming_qos2"),
    };
  }

  async load(): Promise<StoredState> {
    this.assertOpen();
    this.flush();
    const s = this.stmts;
    return {
      sessions: (s.loadSessions.all() as SessionRow[]).map(sessionFromRow),
      deliveries: (s.loadDeliveries.all() as DeliveryRow[]).map(deliveryFromRow),
      retained: (s.loadRetained.all() as MessageRow[]).map(messageFromRow),
      incomingQos2: (s.loadQos2.all() as Array<{ client_id: string; packet_id: number }>).map((r) => ({
        clientId: r.client_id,
        packetId: r.packet_id,
      })),
    };
  }

  saveSession(session: StoredSession): void {
    this.enqueue(
      { k: "saveSession", session: { ...session, subscriptions: [...session.subscriptions] } },
      `s${session.clientId}`,
    );
  }

  deleteSession(clientId: string): void {
    // Drops a pending saveSession, but is never dropped itself: it also deletes deliveries and ids.
    this.enqueue({ k: "deleteSession", clientId }, `s${clientId}`);
    this.lastWrite.delete(`s${clientId}`);
  }

  saveDelivery(delivery: StoredDelivery): void {
    // A shallow copy: the router may change state/packetId on its object before the batch is applied.
    this.enqueue(
      { k: "saveDelivery", delivery: { ...delivery } },
      deliveryKey(delivery.clientId, delivery.seq),
    );
  }

  deleteDelivery(clientId: string, seq: number): void {
    this.enqueue({ k: "deleteDelivery", clientId, seq }, deliveryKey(clientId, seq));
  }

  setRetained(message: Message): void {
    this.enqueue({ k: "setRetained", message }, `r${message.topic}`);
  }

  deleteRetained(topic: string): void {
    this.enqueue({ k: "deleteRetained", topic }, `r${topic}`);
  }

  addIncomingQos2(clientId: string, packetId: number): void {
    this.enqueue({ k: "addQos2", clientId, packetId }, qos2Key(clientId, packetId));
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    this.enqueue({ k: "deleteQos2", clientId, packetId }, qos2Key(clientId, packetId));
  }

  commit(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("SqliteStore is closed"));
    if (this.relaxed) {
      if (this.backgroundError === undefined) return Promise.resolve();
      const err = this.backgroundError;
      this.backgroundError = undefined;
      return Promise.reject(err);
    }
    if (this.batch.length === 0) return Promise.resolve();
    if (!this.waiting) this.waiting = deferred();
    this.schedule();
    return this.waiting.promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.interval) clearInterval(this.interval);
    this.immediate = undefined;
    this.interval = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    try {
      this.flush();
      waiting?.resolve();
    } catch (err) {
      waiting?.reject(err);
      throw err;
    } finally {
      this.db.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("SqliteStore is closed");
  }

  private enqueue(op: Op, rowKey: string): void {
    this.assertOpen();
    const prev = this.lastWrite.get(rowKey);
    if (prev !== undefined) this.batch[prev] = undefined;
    this.lastWrite.set(rowKey, this.batch.length);
    this.batch.push(op);
    if (!this.relaxed) this.schedule();
  }

  private schedule(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.onImmediate);
  }

  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    try {
      this.flush();
      waiting?.resolve();
    } catch (err) {
      // The ops are back in the batch; the next write or commit() schedules another attempt.
      waiting?.reject(err);
    }
  };

  private backgroundFlush(): void {
    try {
      this.flush();
    } catch (err) {
      this.backgroundError = err;
    }
  }

  /** Applies the whole batch in one transaction; on failure the ops go back, in order, for a retry. */
  private flush(): void {
    if (this.batch.length === 0) return;
    const ops = this.batch;
    this.batch = [];
    this.lastWrite = new Map();
    try {
      this.applyBatch(ops);
    } catch (err) {
      // Coalescing restarts with an empty map: the restored ops stay, in order, which is still correct.
      this.batch = ops.concat(this.batch);
      throw err;
    }
  }

  private apply(op: Op): void {
    const s = this.stmts;
    switch (op.k) {
      case "saveSession": {
        const x = op.session;
        s.upsertSession.run(
          x.clientId,
          x.protocol,
          x.expiryInterval,
          x.disconnectedAt ?? null,
          JSON.stringify(x.subscriptions),
        );
        return;
      }
      case "deleteSession":
        s.deleteSession.run(op.clientId);
        s.deleteSessionDeliveries.run(op.clientId);
        s.deleteSessionQos2.run(op.clientId);
        return;
      case "saveDelivery": {
        const d = op.delivery;
        const params: SqlValue[] = [
          d.clientId,
          d.seq,
          d.qos,
          d.retain ? 1 : 0,
          d.subscriptionId ?? null,
          d.packetId ?? null,
          d.state,
        ];
        pushMessageParams(params, d.message);
        s.upsertDelivery.run(params);
        return;
      }
      case "deleteDelivery":
        s.deleteDelivery.run(op.clientId, op.seq);
        return;
      case "setRetained": {
        const params: SqlValue[] = [];
        pushMessageParams(params, op.message);
        s.upsertRetained.run(params);
        return;
      }
      case "deleteRetained":
        s.deleteRetained.run(op.topic);
        return;
      case "addQos2":
        s.addQos2.run(op.clientId, op.packetId);
        return;
      case "deleteQos2":
        s.deleteQos2.run(op.clientId, op.packetId);
        return;
    }
  }
}

function sessionFromRow(r: SessionRow): StoredSession {
  const session: StoredSession = {
    clientId: r.client_id,
    protocol: r.protocol,
    expiryInterval: r.expiry_interval,
    subscriptions: JSON.parse(r.subscriptions) as StoredSubscription[],
  };
  if (r.disconnected_at !== null) session.disconnectedAt = r.disconnected_at;
  return session;
}

function deliveryFromRow(r: DeliveryRow): StoredDelivery {
  const d: StoredDelivery = {
    clientId: r.client_id,
    seq: r.seq,
    message: messageFromRow(r),
    qos: r.qos as QoS,
    retain: r.retain === 1,
    state: r.state,
  };
  if (r.subscription_id !== null) d.subscriptionId = r.subscription_id;
  if (r.packet_id !== null) d.packetId = r.packet_id;
  return d;
}
