/**
 * The embedded SQLite Store (DESIGN.md "Store"): one file, `switchboard.db`, in the data directory.
 *
 * Hot path: a write is a synchronous push onto an in-memory batch, no I/O. The batch is applied in
 * ONE transaction (group commit) on setImmediate, so every write of a tick shares one transaction and
 * one fsync; commit() returns a promise that resolves after the transaction that covers every write
 * made before the call. Calls to commit() in the same tick share one promise. Writes made without a
 * commit() are flushed the same way, so durability never depends on a caller remembering to commit.
 *
 * Durability (the config key `durability`, named as SQLite names its `synchronous` levels):
 * - "normal" (default): WAL with `synchronous = NORMAL`, and commit() resolves after the transaction
 *   has committed. A committed transaction is in the WAL file, i.e. in the OS page cache, before
 *   commit() resolves, so an acknowledged write survives SIGKILL (or any crash) of the broker
 *   process: the OS still writes those pages out. There is no fsync per commit; the WAL is fsynced
 *   at checkpoints. An OS crash or power loss can lose the last transactions (never a torn one: the
 *   database stays consistent), including acknowledged messages.
 * - "full": the same with `synchronous = FULL`: the WAL is fsynced at every commit, before commit()
 *   resolves, so an acknowledged write also survives an OS crash and power loss.
 * - "relaxed": the batch is applied every `relaxedIntervalMs` (default 1000), or once 10,000 writes
 *   wait, with `synchronous = NORMAL`, and commit() resolves at once. A crash of the process or of the machine
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
 * tick costs one UPSERT. updateDelivery is the exception, as it writes two columns, not the row: it
 * folds into a pending saveDelivery or updateDelivery of the same row (changing that op's values in
 * place), is dropped after a pending deleteDelivery, and otherwise becomes an UPDATE (which does
 * nothing if the row does not exist, as in order). deleteSession also removes the session's deliveries and incoming ids, and
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
  type Intern,
  interner,
  MESSAGE_COLUMNS,
  messageFromValues,
  pushMessageParams,
  type SqlValue,
} from "./message-serialization.js";
import { SqliteDeliveries } from "./sqlite-deliveries.js";
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
  /** Default "normal" (see above). */
  durability?: SqliteDurability;
  /** With durability "relaxed": how often the batch is written (ms). Default 1000. */
  relaxedIntervalMs?: number;
}

export type SqliteDurability = "full" | "normal" | "relaxed";

export const SQLITE_FILE_NAME = "switchboard.db";

type Op =
  | { k: "saveSession"; session: StoredSession }
  | { k: "deleteSession"; clientId: string }
  | { k: "saveDelivery"; delivery: StoredDelivery }
  | { k: "deleteDelivery"; clientId: string; seq: number }
  | {
      k: "updateDelivery";
      clientId: string;
      seq: number;
      packetId: number | undefined;
      state: StoredDelivery["state"];
    }
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

/** A row as `.raw()` returns it: the values in SELECT order. */
type Values = unknown[];

const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
const MSG_COLS = MESSAGE_COLUMNS.join(", ");
const WILL_COLS = `client_id, due_at, ${MSG_COLS}`;
const GROUP_COLS = `group_key, seq, qos, ${MSG_COLS}`;
const QUEUE_COLS = "name, durable, auto_delete, arguments, created_at";
const QUEUE_MESSAGE_COLS = `queue, seq, delivery_count, ${MSG_COLS}`;
const SESSION_COLS = "client_id, protocol, expiry_interval, disconnected_at, subscriptions";

/**
 * Row keys for coalescing: one letter per table, then the key. Where a key is a string and a number,
 * the last "\0" separates them (the number has none), so keys are unique even when the string holds
 * "\0" (group keys do).
 */
const qos2Key = (clientId: string, packetId: number): string => `q${clientId}\0${packetId}`;
const willKey = (clientId: string): string => `w${clientId}`;
const groupKey = (group: string, seq: number): string => `g${group}\0${seq}`;
const queueKey = (name: string): string => `Q${name}`;
const queueMessageKey = (queue: string, seq: number): string => `m${queue}\0${seq}`;

/** How long writes that need no commit of their own (done deliveries) wait for one. */
const LAZY_COMMIT_MS = 50;
/** With durability "relaxed": a commit starts before the interval ends once this many writes wait. */
const RELAXED_MAX_OPS = 10_000;

/** Most bytes the -wal file keeps after a checkpoint (it is truncated back to this). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly path: string;
  private readonly db: Database.Database;
  private readonly relaxed: boolean;
  private readonly stmts;
  private readonly applyBatch: (ops: Array<Op | undefined>) => void;
  private readonly deliveries: SqliteDeliveries;
  /** Whether the delivery index was read (by load(), or before the first commit without one). */
  private indexed = false;
  /** Pending ops in write order; a coalesced (dead) op is left as undefined. */
  private batch: Array<Op | undefined> = [];
  /** Row key -> index in `batch` of the last pending write to that row. */
  private lastWrite = new Map<string, number>();
  /**
   * Sessions that have delivery ops (save, update, delete of the session) in `batch`. An
   * acknowledgement for any other session is applied to the delivery index at once instead of
   * becoming an op (deleteDelivery).
   */
  private batchSessions = new Set<string>();
  private waiting: Deferred | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lazy: NodeJS.Timeout | undefined;
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
      this.db.pragma(`synchronous = ${opts.durability === "full" ? "FULL" : "NORMAL"}`);
      this.db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      migrate(this.db);
      this.stmts = this.prepare();
    } catch (err) {
      this.db.close();
      throw new StoreOpenError(this.path, err);
    }
    this.deliveries = new SqliteDeliveries(this.db);
    this.applyBatch = this.db.transaction((ops: Array<Op | undefined>) => {
      for (const op of ops) if (op) this.apply(op);
      this.deliveries.finish();
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
        `INSERT OR REPLACE INTO sessions (${SESSION_COLS}) VALUES (${placeholders(5)})`,
      ),
      deleteSession: db.prepare("DELETE FROM sessions WHERE client_id = ?"),
      deleteSessionQos2: db.prepare("DELETE FROM incoming_qos2 WHERE client_id = ?"),
      upsertRetained: db.prepare(
        `INSERT OR REPLACE INTO retained (${MSG_COLS}) VALUES (${placeholders(MESSAGE_COLUMNS.length)})`,
      ),
      deleteRetained: db.prepare("DELETE FROM retained WHERE topic = ?"),
      addQos2: db.prepare("INSERT OR IGNORE INTO incoming_qos2 (client_id, packet_id) VALUES (?, ?)"),
      deleteQos2: db.prepare("DELETE FROM incoming_qos2 WHERE client_id = ? AND packet_id = ?"),
      // The loads return raw rows (arrays in SELECT order), decoded positionally by read().
      loadSessions: db.prepare(`SELECT ${SESSION_COLS} FROM sessions`).raw(true),
      loadRetained: db.prepare(`SELECT ${MSG_COLS} FROM retained`).raw(true),
      loadQos2: db.prepare("SELECT client_id, packet_id FROM incoming_qos2").raw(true),
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
      loadWills: db.prepare(`SELECT ${WILL_COLS} FROM wills`).raw(true),
      loadGroupMessages: db
        .prepare(`SELECT ${GROUP_COLS} FROM group_messages ORDER BY seq, group_key`)
        .raw(true),
      loadQueues: db.prepare(`SELECT ${QUEUE_COLS} FROM queues`).raw(true),
      loadQueueMessages: db
        .prepare(`SELECT ${QUEUE_MESSAGE_COLS} FROM queue_messages ORDER BY queue, seq`)
        .raw(true),
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

  /**
   * Reads every table; a row that does not decode throws an error naming the table and the row.
   * Rows are iterated raw (arrays, no row objects, no array of every row) and decoded straight into
   * the objects load() returns: with a million queued deliveries that halves the garbage of a start.
   */
  private loadDeliveries(intern: Intern): StoredDelivery[] {
    const out = this.deliveries.load(intern);
    this.indexed = true;
    return out;
  }

  private read(): StoredState {
    const s = this.stmts;
    const intern = interner();
    return {
      sessions: decodeRows("sessions", s.loadSessions, sessionFromValues, [0]),
      deliveries: this.loadDeliveries(intern),
      retained: decodeRows("retained", s.loadRetained, retainedFromValues, [0]),
      incomingQos2: decodeRows("incoming_qos2", s.loadQos2, qos2FromValues, [0, 1]),
      wills: decodeRows("wills", s.loadWills, willFromValues, [0]),
      groupMessages: decodeRows(
        "group_messages",
        s.loadGroupMessages,
        (v) => groupMessageFromValues(v, intern),
        [0, 1],
      ),
      queues: decodeRows("queues", s.loadQueues, queueFromValues, [0]),
      queueMessages: decodeRows(
        "queue_messages",
        s.loadQueueMessages,
        (v) => queueMessageFromValues(v, intern),
        [0, 1],
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
    this.batchSessions.add(clientId);
    this.enqueue({ k: "deleteSession", clientId }, `s${clientId}`);
    this.lastWrite.delete(`s${clientId}`);
  }

  saveDelivery(delivery: StoredDelivery): void {
    this.batchSessions.add(delivery.clientId);
    // A shallow copy: the router may change state/packetId on its object before the batch is applied.
    this.enqueueDelivery({ k: "saveDelivery", delivery: { ...delivery } }, true);
  }

  deleteDelivery(clientId: string, seq: number): void {
    // Lazy: a delivery that is done promises nothing to anyone, so it rides along with the next
    // commit instead of causing one (at worst, a crash redelivers it: at least once).
    // When no op of the batch concerns the session (a queue being drained), the delivery index
    // takes it now: no op object, and no pile of them to work through inside the next commit,
    // which would stall every client for milliseconds (bench:durable, drain phase).
    this.assertOpen();
    if (this.indexed && !this.batchSessions.has(clientId) && this.deliveries.kill(clientId, seq)) {
      if (!this.relaxed) this.scheduleLazy();
      return;
    }
    this.enqueueDelivery({ k: "deleteDelivery", clientId, seq }, false);
  }

  updateDelivery(
    clientId: string,
    seq: number,
    packetId: number | undefined,
    state: StoredDelivery["state"],
  ): void {
    this.batchSessions.add(clientId);
    this.enqueueDelivery({ k: "updateDelivery", clientId, seq, packetId, state }, true);
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
    if (this.batch.length === 0 && !this.deliveries.hasDone) return Promise.resolve();
    if (!this.waiting) this.waiting = deferred();
    this.schedule();
    return this.waiting.promise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    if (this.interval) clearInterval(this.interval);
    if (this.lazy) clearTimeout(this.lazy);
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
    else this.relaxedBound();
  }

  /**
   * Delivery ops are not coalesced by row key here: SqliteDeliveries folds them at commit time (a
   * delivery saved and done in one commit is never written). `eager` ops get a commit this tick; the
   * others wait for the next one, or LAZY_COMMIT_MS.
   */
  private enqueueDelivery(op: Op, eager: boolean): void {
    this.assertOpen();
    this.batch.push(op);
    if (this.relaxed) this.relaxedBound();
    else if (eager) this.schedule();
    else this.scheduleLazy();
  }

  /**
   * "relaxed" commits every interval, or as soon as RELAXED_MAX_OPS writes wait: a burst then costs
   * a few large transactions instead of one pile of ops held in memory until the interval ends
   * (and an acknowledgement for a session with saves in that pile has to become an op too: see
   * deleteDelivery). Committing sooner only shortens what a crash can lose.
   */
  private relaxedBound(): void {
    if (this.batch.length >= RELAXED_MAX_OPS && this.immediate === undefined && !this.closed) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.backgroundFlush();
      });
    }
  }

  private scheduleLazy(): void {
    if (this.immediate === undefined && this.lazy === undefined) {
      this.lazy = setTimeout(this.onLazy, LAZY_COMMIT_MS);
      this.lazy.unref();
    }
  }

  private readonly onLazy = (): void => {
    this.lazy = undefined;
    this.schedule();
  };

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
    if (this.batch.length === 0 && !this.deliveries.hasDone) return;
    if (!this.indexed) {
      this.deliveries.load(undefined);
      this.indexed = true;
    }
    const ops = this.batch;
    const sessions = this.batchSessions;
    this.batch = [];
    this.lastWrite = new Map();
    this.batchSessions = new Set();
    try {
      this.applyBatch(ops);
    } catch (err) {
      // Coalescing restarts with an empty map: the restored ops stay, in order, which is still correct.
      // The transaction rolled back; the delivery index is read again to match it.
      this.batch = ops.concat(this.batch);
      for (const id of sessions) this.batchSessions.add(id);
      this.deliveries.reset();
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
        this.deliveries.applyDeleteClient(op.clientId);
        s.deleteSessionQos2.run(op.clientId);
        return;
      case "saveDelivery":
        this.deliveries.applySave(op.delivery);
        return;
      case "deleteDelivery":
        this.deliveries.applyDelete(op.clientId, op.seq);
        return;
      case "updateDelivery":
        this.deliveries.applyUpdate(op.clientId, op.seq, op.packetId, op.state);
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

/**
 * Iterates the raw rows of `stmt` and decodes each with `fn`; an error names the table and the row's
 * key (the values at `keyAt`).
 */
function decodeRows<T>(table: string, stmt: Database.Statement, fn: (v: Values) => T, keyAt: number[]): T[] {
  const out: T[] = [];
  let row: Values | undefined;
  try {
    for (const r of stmt.iterate() as IterableIterator<Values>) {
      row = r;
      out.push(fn(r));
      row = undefined;
    }
  } catch (err) {
    if (row === undefined) throw err; // reading failed, not decoding (a damaged file)
    let k: string;
    try {
      k = keyAt.map((i) => JSON.stringify(row![i])).join(", ");
    } catch {
      k = "?";
    }
    throw new Error(`cannot decode ${table} row (${k}): ${err instanceof Error ? err.message : String(err)}`);
  }
  return out;
}

const isQoS = (n: unknown): n is QoS => n === 0 || n === 1 || n === 2;
const isInt = (n: unknown): n is number => Number.isInteger(n);

/** Row layouts: the SELECT column lists above (DELIVERY_COLS, WILL_COLS, ...). */
function sessionFromValues(v: Values): StoredSession {
  const subscriptions = JSON.parse(v[4] as string) as unknown;
  if (!Array.isArray(subscriptions)) throw new Error("subscriptions is not a JSON array");
  const session: StoredSession = {
    clientId: v[0] as string,
    protocol: v[1] as string,
    expiryInterval: v[2] as number,
    subscriptions: subscriptions as StoredSubscription[],
  };
  if (v[3] !== null) session.disconnectedAt = v[3] as number;
  return session;
}

function retainedFromValues(v: Values): Message {
  return messageFromValues(v, 0);
}

function qos2FromValues(v: Values): { clientId: string; packetId: number } {
  if (typeof v[0] !== "string" || !isInt(v[1])) throw new Error("bad values");
  return { clientId: v[0], packetId: v[1] };
}

function willFromValues(v: Values): StoredWill {
  if (typeof v[1] !== "number") throw new Error("due_at is not an integer");
  return { clientId: v[0] as string, message: messageFromValues(v, 2), dueAt: v[1] };
}

function groupMessageFromValues(v: Values, intern: Intern): StoredGroupMessage {
  if (!isQoS(v[2])) throw new Error(`invalid qos ${String(v[2])}`);
  return {
    group: intern(v[0] as string),
    seq: v[1] as number,
    message: messageFromValues(v, 3, intern),
    qos: v[2],
  };
}

function queueFromValues(v: Values): StoredQueue {
  const args = JSON.parse(v[3] as string) as unknown;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new Error("arguments is not a JSON object");
  }
  return {
    name: v[0] as string,
    durable: v[1] === 1,
    autoDelete: v[2] === 1,
    arguments: args as QueueArguments,
    createdAt: v[4] as number,
  };
}

function queueMessageFromValues(v: Values, intern: Intern): StoredQueueMessage {
  if (!isInt(v[2])) throw new Error("delivery_count is not an integer");
  return {
    queue: intern(v[0] as string),
    seq: v[1] as number,
    message: messageFromValues(v, 3, intern),
    deliveryCount: v[2],
  };
}
