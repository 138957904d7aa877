import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { createStore } from "../../src/store/create-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { SQLITE_FILE_NAME, SqliteStore, type SqliteStoreOptions } from "../../src/store/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { delivery, storeConformance } from "./conformance.js";
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

storeConformance("sqlite (full durability)", harness({}, false));
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
      assert.equal(db.pragma("user_version", { simple: true }), 1);
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
    assert.throws(() => new SqliteStore({ dir }), /schema version 99/);
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
    const count = () => (reader.prepare("SELECT count(*) AS n FROM deliveries").get() as { n: number }).n;
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

test("sqlite: committed deliveries survive SIGKILL of the writing process", T, () =>
  inTempDir(async (dir) => {
    const n = 500;
    const script = fileURLToPath(new URL("./fixtures/crash-writer.js", import.meta.url));
    const child = spawn(process.execPath, [script, dir, String(n)], { stdio: ["ignore", "pipe", "pipe"] });
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
  }),
);
