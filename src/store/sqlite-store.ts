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
 * incoming QoS 2 id, a will, a group message, a queue, a queue message) makes any earlier pending
 * write to the same row dead, and it is dropped. Every row write fully determines that row (upsert or
 * delete), so the end state is the same as applying every op in order; e.g. a delivery queued and
 * acknowledged in the same tick costs one DELETE, and a retained topic updated a thousand times in a
 * tick costs one UPSERT. deleteSession also removes the session's deliveries and incoming ids, and
 * deleteQueue the queue's messages, so a later write never drops them. Ops are applied in order.
 * (deleteSession does not delete the client's will: a will outlives its session on purpose.)
 *
 * Opening: the file is read (header, schema, version) before anything is written to it. A file that
 * is not a SQLite database, is damaged, is from a newer schema or is not a Switchboard store fails with
 * a StoreOpenError naming the file, and the file is left untouched; so does load() when a row cannot be
 * read or decoded. Switchboard never starts empty over existing data.
 *
 * Disk space: deleted rows (acknowledged deliveries, expired sessions) free their pages, and SQLite
 * reuses free pages for later writes, so the file grows to its high-water mark and no further; it
 * does not shrink (no auto_vacuum). The WAL is checkpointed automatically and truncated back to
 * `journal_size_limit` (64 MiB) after a checkpoint, so a burst does not leave a huge -wal file behind.
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
import type {
  QueueArguments,
  Store,
  StoredDelivery,
  StoredGroupMessage,
  StoredQueue,
  StoredQueueMessage,
  StoredSession,
  StoredState,
  StoredSubscription,
  StoredWill,
} from "./store.js";
import { StoreOpenError } from "./store-error.js";

export { StoreOpenError } from "./store-error.js";

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
  | { k: "deleteQos2"; clientId: string; packetId: number }
  | { k: "saveWill"; will: StoredWill }
  | { k: "deleteWill"; clientId: string }
  | { k: "saveGroupMessage"; message: StoredGroupMessage }
  | { k: "deleteGroupMessage"; group: string; seq: number }
  | { k: "saveQueue"; queue: StoredQueue }
  | { k: "deleteQueue"; name: string }
  | { k: "saveQueueMessage"; message: StoredQueueMessage }
  | { k: "deleteQueueMessage"; queue: string; seq: number };

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

interface WillRow extends MessageRow {
  client_id: string;
  due_at: number;
}

interface GroupMessageRow extends MessageRow {
  group_key: string;
  seq: number;
  qos: number;
}

interface QueueRow {
  name: string;
  durable: number;
  auto_delete: number;
  arguments: string;
  created_at: number;
}

interface QueueMessageRow extends MessageRow {
  queue: string;
  seq: number;
  delivery_count: number;
}

const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
const MSG_COLS = MESSAGE_COLUMNS.join(", ");
const DELIVERY_COLS = `client_id, seq, qos, retain, subscription_id, packet_id, state, ${MSG_COLS}`;
const WILL_COLS = `client_id, due_at, ${MSG_COLS}`;
const GROUP_COLS = `group_key, seq, qos, ${MSG_COLS}`;
const QUEUE_COLS = "name, durable, auto_delete, arguments, created_at";
const QUEUE_MESSAGE_COLS = `queue, seq, delivery_count, ${MSG_COLS}`;

/**
 * Row keys for coalescing: one letter per table, then the key. Where a key is a string and a number,
 * the last "\0" separates them (the number has none), so keys are unique even when the string holds
 * "\0" (group keys do).
 */
const deliveryKey = (clientId: string, seq: number): string => `d${clientId}\0${seq}`;
const qos2Key = (clientId: string, packetId: number): string => `q${clientId}\0${packetId}`;
const willKey = (clientId: string): string => `w${clientId}`;
const groupKey = (group: string, seq: number): string => `g${group}\0${seq}`;
const queueKey = (name: string): string => `Q${name}`;
const queueMessageKey = (queue: string, seq: number): string => `m${queue}\0${seq}`;

/** Most bytes the -wal file keeps after a checkpoint (it is truncated back to this). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

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
    this.path = join(opts.dir, SQLITE_FILE_NAME);
    this.relaxed = opts.durability === "relaxed";
    try {
      mkdirSync(opts.dir, { recursive: true });
      this.db = new Database(this.path);
    } catch (err) {
      throw new StoreOpenError(this.path, err);
    }
    try {
      checkReadable(this.db);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${this.relaxed ? "NORMAL" : "FULL"}`);
      this.db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      migrate(this.db);
      this.stmts = this.prepare();
    } catch (err) {
      this.db.close();
      throw new StoreOpenError(this.path, err);
    }
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
      upsertWill: db.prepare(
        `INSERT OR REPLACE INTO wills (${WILL_COLS}) VALUES (${placeholders(2 + MESSAGE_COLUMNS.length)})`,
      ),
      deleteWill: db.prepare("DELETE FROM wills WHERE client_id = ?"),
      upsertGroupMessage: db.prepare(
        `INSERT OR REPLACE INTO group_messages (${GROUP_COLS}) VALUES (${placeholders(3 + MESSAGE_COLUMNS.length)})`,
      ),
      deleteGroupMessage: db.prepare("DELETE FROM group_messages WHERE group_key = ? AND seq = ?"),
      upsertQueue: db.prepare(`INSERT OR REPLACE INTO queues (${QUEUE_COLS}) VALUES (${placeholders(5)})`),
      deleteQueue: db.prepare("DELETE FROM queues WHERE name = ?"),
      deleteQueueMessages: db.prepare("DELETE FROM queue_messages WHERE queue = ?"),
      upsertQueueMessage: db.prepare(
        `INSERT OR REPLACE INTO queue_messages (${QUEUE_MESSAGE_COLS}) VALUES (${placeholders(3 + MESSAGE_COLUMNS.length)})`,
      ),
      deleteQueueMessage: db.prepare("DELETE FROM queue_messages WHERE queue = ? AND seq = ?"),
      loadWills: db.prepare(`SELECT ${WILL_COLS} FROM wills`),
      loadGroupMessages: db.prepare(`SELECT ${GROUP_COLS} FROM group_messages ORDER BY seq, group_key`),
      loadQueues: db.prepare(`SELECT ${QUEUE_COLS} FROM queues`),
      loadQueueMessages: db.prepare(`SELECT ${QUEUE_MESSAGE_COLS} FROM queue_messages ORDER BY queue, seq`),
    };
  }

  async load(): Promise<StoredState> {
    this.assertOpen();
    this.flush();
    try {
      return this.read();
    } catch (err) {
      throw new StoreOpenError(this.path, err);
    }
  }

  /** Reads every table; a row that does not decode throws an error naming the table and the row. */
  private read(): StoredState {
    const s = this.stmts;
    return {
      sessions: decodeRows("sessions", s.loadSessions.all() as SessionRow[], sessionFromRow, (r) => [
        r.client_id,
      ]),
      deliveries: decodeRows("deliveries", s.loadDeliveries.all() as DeliveryRow[], deliveryFromRow, (r) => [
        r.client_id,
        r.seq,
      ]),
      retained: decodeRows("retained", s.loadRetained.all() as MessageRow[], messageFromRow, (r) => [
        r.topic,
      ]),
      incomingQos2: decodeRows(
        "incoming_qos2",
        s.loadQos2.all() as Array<{ client_id: string; packet_id: number }>,
        (r) => {
          if (typeof r.client_id !== "string" || !Number.isInteger(r.packet_id))
            throw new Error("bad values");
          return { clientId: r.client_id, packetId: r.packet_id };
        },
        (r) => [r.client_id, r.packet_id],
      ),
      wills: decodeRows("wills", s.loadWills.all() as WillRow[], willFromRow, (r) => [r.client_id]),
      groupMessages: decodeRows(
        "group_messages",
        s.loadGroupMessages.all() as GroupMessageRow[],
        groupMessageFromRow,
        (r) => [r.group_key, r.seq],
      ),
      queues: decodeRows("queues", s.loadQueues.all() as QueueRow[], queueFromRow, (r) => [r.name]),
      queueMessages: decodeRows(
        "queue_messages",
        s.loadQueueMessages.all() as QueueMessageRow[],
        queueMessageFromRow,
        (r) => [r.queue, r.seq],
      ),
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

  saveWill(will: StoredWill): void {
    this.enqueue({ k: "saveWill", will: { ...will } }, willKey(will.clientId));
  }

  deleteWill(clientId: string): void {
    this.enqueue({ k: "deleteWill", clientId }, willKey(clientId));
  }

  saveGroupMessage(message: StoredGroupMessage): void {
    this.enqueue({ k: "saveGroupMessage", message: { ...message } }, groupKey(message.group, message.seq));
  }

  deleteGroupMessage(group: string, seq: number): void {
    this.enqueue({ k: "deleteGroupMessage", group, seq }, groupKey(group, seq));
  }

  saveQueue(queue: StoredQueue): void {
    this.enqueue(
      { k: "saveQueue", queue: { ...queue, arguments: { ...queue.arguments } } },
      queueKey(queue.name),
    );
  }

  deleteQueue(name: string): void {
    // Drops a pending saveQueue, but is never dropped itself: it also deletes the queue's messages.
    this.enqueue({ k: "deleteQueue", name }, queueKey(name));
    this.lastWrite.delete(queueKey(name));
  }

  saveQueueMessage(message: StoredQueueMessage): void {
    // A shallow copy: the queue may bump deliveryCount on its object before the batch is applied.
    this.enqueue(
      { k: "saveQueueMessage", message: { ...message } },
      queueMessageKey(message.queue, message.seq),
    );
  }

  deleteQueueMessage(queue: string, seq: number): void {
    this.enqueue({ k: "deleteQueueMessage", queue, seq }, queueMessageKey(queue, seq));
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
      case "saveWill": {
        const params: SqlValue[] = [op.will.clientId, op.will.dueAt];
        pushMessageParams(params, op.will.message);
        s.upsertWill.run(params);
        return;
      }
      case "deleteWill":
        s.deleteWill.run(op.clientId);
        return;
      case "saveGroupMessage": {
        const m = op.message;
        const params: SqlValue[] = [m.group, m.seq, m.qos];
        pushMessageParams(params, m.message);
        s.upsertGroupMessage.run(params);
        return;
      }
      case "deleteGroupMessage":
        s.deleteGroupMessage.run(op.group, op.seq);
        return;
      case "saveQueue": {
        const q = op.queue;
        s.upsertQueue.run(
          q.name,
          q.durable ? 1 : 0,
          q.autoDelete ? 1 : 0,
          JSON.stringify(q.arguments),
          q.createdAt,
        );
        return;
      }
      case "deleteQueue":
        s.deleteQueue.run(op.name);
        s.deleteQueueMessages.run(op.name);
        return;
      case "saveQueueMessage": {
        const m = op.message;
        const params: SqlValue[] = [m.queue, m.seq, m.deliveryCount];
        pushMessageParams(params, m.message);
        s.upsertQueueMessage.run(params);
        return;
      }
      case "deleteQueueMessage":
        s.deleteQueueMessage.run(op.queue, op.seq);
        return;
    }
  }
}

/**
 * Reads the file before anything writes to it: the header (a file that is not a database fails with
 * "file is not a database", a truncated one with "database disk image is malformed"), the schema, and
 * the version. A SQLite file with tables but no Switchboard version is someone else's: refused.
 */
function checkReadable(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  if (version === 0 && tables.length > 0) {
    throw new Error(
      `not a Switchboard store: it has tables (${tables.slice(0, 5).join(", ")}) but no schema version`,
    );
  }
  // A newer version is refused by migrate(), with both versions in the message.
}

/** Decodes rows with `fn`; an error names the table and the row's key. */
function decodeRows<R, T>(table: string, rows: R[], fn: (row: R) => T, key: (row: R) => unknown[]): T[] {
  const out: T[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    try {
      out[i] = fn(row);
    } catch (err) {
      let k: string;
      try {
        k = key(row)
          .map((v) => JSON.stringify(v))
          .join(", ");
      } catch {
        k = "?";
      }
      throw new Error(
        `cannot decode ${table} row (${k}): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return out;
}

const isQoS = (n: unknown): n is QoS => n === 0 || n === 1 || n === 2;

function willFromRow(r: WillRow): StoredWill {
  if (typeof r.due_at !== "number") throw new Error("due_at is not an integer");
  return { clientId: r.client_id, message: messageFromRow(r), dueAt: r.due_at };
}

function groupMessageFromRow(r: GroupMessageRow): StoredGroupMessage {
  if (!isQoS(r.qos)) throw new Error(`invalid qos ${r.qos}`);
  return { group: r.group_key, seq: r.seq, message: messageFromRow(r), qos: r.qos };
}

function queueFromRow(r: QueueRow): StoredQueue {
  const args = JSON.parse(r.arguments) as unknown;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new Error("arguments is not a JSON object");
  }
  return {
    name: r.name,
    durable: r.durable === 1,
    autoDelete: r.auto_delete === 1,
    arguments: args as QueueArguments,
    createdAt: r.created_at,
  };
}

function queueMessageFromRow(r: QueueMessageRow): StoredQueueMessage {
  if (!Number.isInteger(r.delivery_count)) throw new Error("delivery_count is not an integer");
  return { queue: r.queue, seq: r.seq, message: messageFromRow(r), deliveryCount: r.delivery_count };
}

function sessionFromRow(r: SessionRow): StoredSession {
  const subscriptions = JSON.parse(r.subscriptions) as unknown;
  if (!Array.isArray(subscriptions)) throw new Error("subscriptions is not a JSON array");
  const session: StoredSession = {
    clientId: r.client_id,
    protocol: r.protocol,
    expiryInterval: r.expiry_interval,
    subscriptions: subscriptions as StoredSubscription[],
  };
  if (r.disconnected_at !== null) session.disconnectedAt = r.disconnected_at;
  return session;
}

const DELIVERY_STATES: ReadonlySet<string> = new Set(["queued", "publish", "pubrel"]);

function deliveryFromRow(r: DeliveryRow): StoredDelivery {
  if (!isQoS(r.qos)) throw new Error(`invalid qos ${r.qos}`);
  if (!DELIVERY_STATES.has(r.state)) throw new Error(`invalid state ${JSON.stringify(r.state)}`);
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
