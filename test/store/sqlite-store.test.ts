import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { buildConfig } from "../../src/config/load.js";
import { createStore } from "../../src/store/create-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { pushMessageParams, type SqlValue } from "../../src/store/message-serialization.js";
import { MIGRATION_V1, SCHEMA_VERSION } from "../../src/store/sqlite-schema.js";
import {
  SQLITE_FILE_NAME,
  SqliteStore,
  type SqliteStoreOptions,
  StoreOpenError,
} from "../../src/store/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import {
  delivery,
  GROUP_A,
  groupMessage,
  message,
  persisted,
  queue,
  queueMessage,
  session,
  storeConformance,
  will,
} from "./conformance.js";
import { crashDelivery } from "./fixtures/crash-delivery.js";

const T = { timeout: 20_000 };

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), "switchboard-sqlite-"));

/**
 * A harness over one temp dir. `closeBeforeReopen` false: reopen opens a second connection while the
 * first stays open, so only what commit() made durable is seen (the relaxed mode needs true).
 */
function harness(opts: Omit<SqliteStoreOptions, "dir">, closeBeforeReopen: boolean) {
  return async () => {
    const dir = await tempDir();
    const opened: SqliteStore[] = [new SqliteStore({ dir, ...opts })];
    return {
      store: opened[0]! as Store,
      reopen: async () => {
        if (closeBeforeReopen) await opened.at(-1)!.close();
        const next = new SqliteStore({ dir, ...opts });
        opened.push(next);
        return next;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

storeConformance("sqlite (normal durability, the default)", harness({}, false));
storeConformance("sqlite (full durability)", harness({ durability: "full" }, false));
storeConformance("sqlite (relaxed durability, reopen after close)", harness({ durability: "relaxed" }, true));

/** Runs `fn` with a temp dir that is removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("sqlite: creates the directory and switchboard.db in WAL mode with the schema version", T, () =>
  inTempDir(async (base) => {
    const dir = join(base, "nested", "data");
    const store = new SqliteStore({ dir });
    await store.close();
    assert.ok(existsSync(join(dir, SQLITE_FILE_NAME)));
    const db = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, 3);
    } finally {
      db.close();
    }
  }),
);

test("sqlite: refuses a database from a newer schema version", T, () =>
  inTempDir(async (dir) => {
    await new SqliteStore({ dir }).close();
    const db = new Database(join(dir, SQLITE_FILE_NAME));
    db.pragma("user_version = 99");
    db.close();
    const before = readFileSync(join(dir, SQLITE_FILE_NAME));
    assert.throws(
      () => new SqliteStore({ dir }),
      (err: unknown) =>
        err instanceof StoreOpenError &&
        err.message.startsWith(`${join(dir, SQLITE_FILE_NAME)}: `) &&
        /schema version 99/.test(err.message),
    );
    assert.ok(readFileSync(join(dir, SQLITE_FILE_NAME)).equals(before), "the file is not modified");
  }),
);

test(
  "sqlite: a version 1 database (before wills, groups and queues) is upgraded with its data intact",
  T,
  () =>
    inTempDir(async (dir) => {
      const file = join(dir, SQLITE_FILE_NAME);
      const v1 = new Database(file);
      v1.pragma("journal_mode = WAL");
      v1.exec(MIGRATION_V1);
      v1.pragma("user_version = 1");
      const sess = session("old");
      v1.prepare(
        "INSERT INTO sessions (client_id, protocol, expiry_interval, disconnected_at, subscriptions) VALUES (?, ?, ?, ?, ?)",
      ).run(sess.clientId, sess.protocol, sess.expiryInterval, 42, JSON.stringify(sess.subscriptions));
      const d = delivery("old", 7, { qos: 2, state: "publish", packetId: 3 });
      const dParams: SqlValue[] = [d.clientId, d.seq, d.qos, 0, null, d.packetId!, d.state];
      pushMessageParams(dParams, d.message);
      v1.prepare(`INSERT INTO deliveries VALUES (${dParams.map(() => "?").join(", ")})`).run(dParams);
      const r = message("ret/old", "kept", { retain: true });
      const rParams: SqlValue[] = [];
      pushMessageParams(rParams, r);
      v1.prepare(`INSERT INTO retained VALUES (${rParams.map(() => "?").join(", ")})`).run(rParams);
      v1.prepare("INSERT INTO incoming_qos2 VALUES (?, ?)").run("old", 9);
      v1.close();

      const store = new SqliteStore({ dir });
      try {
        const st = await store.load();
        assert.deepStrictEqual(st.sessions, [{ ...sess, disconnectedAt: 42 }]);
        assert.equal(st.deliveries.length, 1);
        assert.deepStrictEqual(
          { ...st.deliveries[0]!, message: persisted(st.deliveries[0]!.message) },
          {
            ...d,
            message: persisted(d.message),
          },
        );
        assert.deepStrictEqual(st.retained.map(persisted), [persisted(r)]);
        assert.deepStrictEqual(st.incomingQos2, [{ clientId: "old", packetId: 9 }]);
        assert.deepStrictEqual([st.wills, st.groupMessages, st.queues, st.queueMessages], [[], [], [], []]);
        // The new tables work.
        store.saveWill(will("old"));
        store.saveGroupMessage(groupMessage(GROUP_A, 1));
        store.saveQueue(queue("q"));
        store.saveQueueMessage(queueMessage("q", 1));
        await store.commit();
      } finally {
        await store.close();
      }
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma("user_version", { simple: true }), 3);
      } finally {
        db.close();
      }
      const again = new SqliteStore({ dir });
      try {
        const st = await again.load();
        assert.equal(st.sessions.length, 1);
        assert.equal(st.deliveries.length, 1);
        assert.equal(st.wills.length, 1);
        assert.equal(st.groupMessages.length, 1);
        assert.equal(st.queues.length, 1);
        assert.equal(st.queueMessages.length, 1);
      } finally {
        await again.close();
      }
    }),
);

/** Asserts that opening and loading `dir` fails with a StoreOpenError naming the file, matching `re`. */
async function assertOpenFails(dir: string, re: RegExp): Promise<void> {
  const file = join(dir, SQLITE_FILE_NAME);
  const check = (err: unknown): boolean => {
    assert.ok(err instanceof StoreOpenError, `a StoreOpenError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.equal(err.path, file);
    assert.match(err.message, re);
    return true;
  };
  let store: SqliteStore | undefined;
  try {
    store = new SqliteStore({ dir });
  } catch (err) {
    check(err);
    return;
  }
  try {
    await assert.rejects(store.load(), check);
  } finally {
    await store.close();
  }
}

/** A committed store in `dir` with a few hundred deliveries (several pages). */
async function populated(dir: string): Promise<void> {
  const store = new SqliteStore({ dir });
  store.saveSession(session("c"));
  for (let i = 1; i <= 300; i++) store.saveDelivery(delivery("c", i));
  store.saveQueue(queue("q"));
  await store.close();
}

test("sqlite: a file that is not a database fails with the path, and is not modified", T, () =>
  inTempDir(async (dir) => {
    const file = join(dir, SQLITE_FILE_NAME);
    const garbage = Buffer.alloc(10_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
    await writeFile(file, garbage);
    await assertOpenFails(dir, /file is not a database/);
    assert.ok((await readFile(file)).equals(garbage));
    await writeFile(file, "hello, this is a text file\n");
    await assertOpenFails(dir, /file is not a database/);
    assert.equal(await readFile(file, "utf8"), "hello, this is a text file\n");
  }),
);

test("sqlite: a truncated database fails with the path, and is not modified", T, () =>
  inTempDir(async (dir) => {
    await populated(dir);
    const file = join(dir, SQLITE_FILE_NAME);
    const size = statSync(file).size;
    assert.ok(size > 8 * 4096, `db is ${size} bytes`);
    await truncate(file, Math.floor(size / 2));
    const before = await readFile(file);
    await assertOpenFails(dir, /malformed|corrupt/i);
    assert.ok((await readFile(file)).equals(before));
  }),
);

test("sqlite: a damaged page fails with the path (at open or at load)", T, () =>
  inTempDir(async (dir) => {
    await populated(dir);
    const file = join(dir, SQLITE_FILE_NAME);
    const bytes = await readFile(file);
    // Overwrite every page but the first (the header and schema) with garbage.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 31 + 3) & 0xff;
    await writeFile(file, bytes);
    await assertOpenFails(dir, /malformed|corrupt|not a database/i);
    assert.ok((await readFile(file)).equals(bytes));
  }),
);

test("sqlite: rows that cannot be decoded make load() fail with the path, the table and the row", T, () =>
  inTempDir(async (dir) => {
    await populated(dir);
    const file = join(dir, SQLITE_FILE_NAME);
    const cases: Array<[string, RegExp]> = [
      ["UPDATE sessions SET subscriptions = '{not json'", /sessions row \("c"\).*JSON/],
      [
        "INSERT INTO delivery_marks VALUES ('c', 5, 0, 1, 'bogus')",
        /delivery_marks row \("c", 5, 0\).*state/,
      ],
      ["UPDATE delivery_segments SET data = X'0102'", /delivery_segments row \d+ \("c"\).*truncated/],
      ["UPDATE queues SET arguments = '[1]'", /queues row \("q"\).*arguments/],
    ];
    for (const [sql, re] of cases) {
      const db = new Database(file);
      db.exec("SAVEPOINT s");
      db.exec(sql);
      db.exec("RELEASE s");
      db.close();
      const before = await readFile(file);
      await assertOpenFails(dir, re);
      assert.ok((await readFile(file)).equals(before), "the file is not modified");
      // Put the row back for the next case.
      const fix = new Database(file);
      fix.exec(
        "DELETE FROM sessions; DELETE FROM delivery_segments; DELETE FROM delivery_marks; DELETE FROM queues;",
      );
      fix.close();
      await populated(dir);
    }
  }),
);

test("sqlite: a SQLite file that is not a Switchboard store is refused, not migrated", T, () =>
  inTempDir(async (dir) => {
    const file = join(dir, SQLITE_FILE_NAME);
    const db = new Database(file);
    db.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x')",
    );
    db.close();
    const before = await readFile(file);
    await assertOpenFails(dir, /not a Switchboard store.*customers/);
    assert.ok((await readFile(file)).equals(before));
  }),
);

test("sqlite: a data file that cannot be opened fails with the path", T, () =>
  inTempDir(async (dir) => {
    await mkdir(join(dir, SQLITE_FILE_NAME)); // a directory where the file should be
    await assertOpenFails(dir, /./);
  }),
);

test("sqlite: space freed by deleted deliveries is reused: the file does not double", T, () =>
  inTempDir(async (dir) => {
    const file = join(dir, SQLITE_FILE_NAME);
    const n = 20_000;
    const payload = Buffer.alloc(200, 7);
    const write = async (store: SqliteStore, from: number) => {
      for (let i = from; i < from + n; i++) {
        store.saveDelivery(delivery(`c${i % 50}`, i, { message: message(`t/${i % 50}`, payload) }));
        if (i % 1000 === 0) await store.commit();
      }
      await store.commit();
    };
    const walSize = () => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    let store = new SqliteStore({ dir });
    await write(store, 1);
    await store.close();
    const first = statSync(file).size;
    assert.ok(first > n * 200, `${first} bytes for ${n} deliveries`);

    store = new SqliteStore({ dir });
    for (let i = 1; i <= n; i++) store.deleteDelivery(`c${i % 50}`, i);
    await store.commit();
    await write(store, n + 1);
    assert.equal((await store.load()).deliveries.length, n);
    // The main file reuses the freed pages. (The -wal file holds the last big transactions until a
    // checkpoint resets it; it is truncated back to journal_size_limit, and removed at close.)
    assert.ok(statSync(file).size < first * 1.2, `${statSync(file).size} bytes while open, ${first} before`);
    assert.ok(walSize() < 64 * 1024 * 1024);
    await store.close();
    const second = statSync(file).size;
    assert.ok(second < first * 1.2, `${second} bytes after delete + rewrite, ${first} before`);
  }),
);

test("sqlite: commit() calls in the same tick share one promise", T, () =>
  inTempDir(async (dir) => {
    const store = new SqliteStore({ dir });
    try {
      store.saveDelivery(delivery("c", 1));
      const a = store.commit();
      store.saveDelivery(delivery("c", 2));
      const b = store.commit();
      assert.equal(a, b);
      await a;
      store.saveDelivery(delivery("c", 3));
      const c = store.commit();
      assert.notEqual(c, a);
      await c;
    } finally {
      await store.close();
    }
  }),
);

test("sqlite: writes without commit() are still flushed at the end of the tick", T, () =>
  inTempDir(async (dir) => {
    const store = new SqliteStore({ dir });
    const other = new SqliteStore({ dir });
    try {
      store.saveDelivery(delivery("c", 1));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await other.load()).deliveries.length, 1);
    } finally {
      await store.close();
      await other.close();
    }
  }),
);

test("sqlite: relaxed durability resolves commit() at once and writes every interval", T, () =>
  inTempDir(async (dir) => {
    const store = new SqliteStore({ dir, durability: "relaxed", relaxedIntervalMs: 30 });
    const reader = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const count = () =>
      (reader.prepare("SELECT count(*) AS n FROM delivery_segments").get() as { n: number }).n;
    try {
      store.saveDelivery(delivery("c", 1));
      await store.commit();
      assert.equal(count(), 0, "not written yet: relaxed commit() does not wait");
      const deadline = Date.now() + 5000;
      while (count() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(count(), 1);
    } finally {
      reader.close();
      await store.close();
    }
  }),
);

test("sqlite: relaxed durability commits before the interval ends once 10,000 writes wait", T, () =>
  inTempDir(async (dir) => {
    const store = new SqliteStore({ dir, durability: "relaxed", relaxedIntervalMs: 600_000 });
    const reader = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const rows = () =>
      (reader.prepare("SELECT count(*) AS n FROM delivery_segments").get() as { n: number }).n;
    try {
      await store.load();
      for (let i = 1; i < 10_000; i++) store.saveDelivery(delivery("c", i));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(rows(), 0, "9,999 writes wait for the interval");
      store.saveDelivery(delivery("c", 10_000));
      const deadline = Date.now() + 5000;
      while (rows() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(rows(), 1, "the 10,000th write starts a commit of them all (one segment)");
    } finally {
      reader.close();
      await store.close();
    }
  }),
);

test("sqlite: every write and commit() after close() fails", T, () =>
  inTempDir(async (dir) => {
    const store = new SqliteStore({ dir });
    await store.close();
    await store.close(); // idempotent
    assert.throws(() => store.saveDelivery(delivery("c", 1)), /closed/);
    await assert.rejects(store.commit(), /closed/);
    await assert.rejects(store.load(), /closed/);
  }),
);

test("createStore: sqlite and memory", T, () =>
  inTempDir(async (dir) => {
    const sqlite = createStore("sqlite", dir);
    assert.ok(sqlite instanceof SqliteStore);
    assert.equal(sqlite.kind, "sqlite");
    await sqlite.close();
    const memory = createStore("memory", dir);
    assert.ok(memory instanceof MemoryStore);
  }),
);

test("createStore: the durability option reaches the SQLite store", T, () =>
  inTempDir(async (dir) => {
    const synchronous = async (options?: { durability?: "full" | "normal" | "relaxed" }) => {
      const store = createStore("sqlite", dir, options);
      try {
        // biome-ignore lint/complexity/useLiteralKeys: a private field, read for the test
        return (store as unknown as { db: Database.Database })["db"].pragma("synchronous", { simple: true });
      } finally {
        await store.close();
      }
    };
    assert.equal(await synchronous(), 1, "NORMAL by default");
    assert.equal(await synchronous({ durability: "normal" }), 1, "NORMAL");
    assert.equal(await synchronous({ durability: "full" }), 2, "FULL");
    assert.equal(await synchronous({ durability: "relaxed" }), 1, "NORMAL");
    const relaxed = createStore("sqlite", dir, { durability: "relaxed" });
    try {
      relaxed.saveDelivery(delivery("c", 1));
      await relaxed.commit(); // resolves at once, before the write
    } finally {
      await relaxed.close();
    }
    assert.ok(createStore("memory", dir, { durability: "relaxed" }) instanceof MemoryStore);
  }),
);

test("config: durability is a top-level key, default normal, full, normal or relaxed only", () => {
  assert.equal(buildConfig({}).durability, "normal");
  assert.equal(buildConfig({ durability: "full" }).durability, "full");
  assert.equal(buildConfig({ durability: "normal" }).durability, "normal");
  assert.equal(buildConfig({ durability: "relaxed" }).durability, "relaxed");
  assert.throws(() => buildConfig({ durability: "sometimes" }), /durability/);
});

for (const durability of ["normal", "full"] as const) {
  test(`sqlite (${durability}): committed deliveries survive SIGKILL of the writing process`, T, () =>
    crashTest(durability),
  );
}

/**
 * A child process commits n deliveries with `durability`, says so, keeps writing, and is killed with
 * SIGKILL: every committed delivery is there, and whatever came after is a whole prefix of later
 * transactions. ("normal" does not fsync each commit: a committed transaction is in the OS page
 * cache, which the kill of a process does not lose. What an OS crash would do is not tested here.)
 */
function crashTest(durability: "normal" | "full"): Promise<void> {
  return inTempDir(async (dir) => {
    const n = 500;
    const script = fileURLToPath(new URL("./fixtures/crash-writer.js", import.meta.url));
    const child = spawn(process.execPath, [script, dir, String(n), durability], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
      child.once("exit", (code, signal) => resolve(signal ?? code));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(
          () => reject(new Error(`no "committed" within 10 s; stderr: ${err}`)),
          10_000,
        );
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("committed\n")) {
            clearTimeout(timer);
            child.kill("SIGKILL");
            resolve();
          }
        });
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`writer exited early (${code}): ${err}`));
        });
      });
      assert.equal(await exited, "SIGKILL");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
    const store = new SqliteStore({ dir });
    try {
      const { deliveries } = await store.load();
      assert.ok(deliveries.length >= n, `${deliveries.length} deliveries, expected at least ${n}`);
      // Whatever got in after "committed" is a whole prefix of later transactions, never a torn one.
      deliveries.forEach((d, i) => {
        const expected = crashDelivery(i + 1);
        assert.equal(d.seq, expected.seq);
        assert.equal(d.clientId, expected.clientId);
        assert.ok(d.message.payload.equals(expected.message.payload), `payload of seq ${d.seq}`);
        assert.deepStrictEqual(d.message.properties, expected.message.properties);
      });
    } finally {
      await store.close();
    }
  });
}
