/**
 * Delivery segments (src/store/sqlite-deliveries.ts) against a model: random sequences of saves,
 * updates, deletes in and out of queue order, session deletes, commits and reopenings of the file
 * must load exactly what the memory store loads after the same writes.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import fc from "fast-check";
import { decodeSegment, encodeSegment } from "../../src/store/delivery-codec.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { SQLITE_FILE_NAME, SqliteStore } from "../../src/store/sqlite-store.js";
import type { StoredDelivery } from "../../src/store/store.js";
import { delivery, fullMessage, message, persisted, session } from "./conformance.js";

type Op =
  | { k: "save"; client: number; qos: 1 | 2 }
  | { k: "resave"; pick: number }
  | { k: "delete"; pick: number }
  | { k: "update"; pick: number; state: "publish" | "pubrel" }
  | { k: "deleteSession"; client: number }
  | { k: "commit" }
  | { k: "reopen" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("save" as const),
      client: fc.nat(2),
      qos: fc.constantFrom(1 as const, 2 as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("resave" as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant("update" as const),
      pick: fc.nat(),
      state: fc.constantFrom("publish" as const, "pubrel" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("deleteSession" as const), client: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.constant({ k: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "reopen" as const }) },
);

const summary = (ds: StoredDelivery[]) =>
  ds.map((d) => [d.clientId, d.seq, d.qos, d.packetId, d.state, d.message.topic] as const);

test("sqlite deliveries: any sequence of writes, commits and restarts loads what the model holds", {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-segments-"));
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        async (ops, deleteFirst) => {
          const d = join(dir, String(run++));
          const model = new MemoryStore();
          let store = new SqliteStore({ dir: d });
          // Live (clientId, seq) pairs in the model, in save order; ops pick among them.
          let live: Array<[string, number]> = [];
          let seq = 0;
          const pick = (n: number) => (live.length === 0 ? undefined : live[n % live.length]);
          const both = (f: (s: MemoryStore | SqliteStore) => void) => {
            f(model);
            f(store);
          };
          for (let c = 0; c < 3; c++) both((s) => s.saveSession(session(`c${c}`)));
          try {
            for (const op of ops) {
              switch (op.k) {
                case "save": {
                  const id = `c${op.client}`;
                  const dl = delivery(id, ++seq, { qos: op.qos, message: message(`t/${seq}`, `p${seq}`) });
                  both((s) => s.saveDelivery(dl));
                  live.push([id, seq]);
                  break;
                }
                case "resave": {
                  const p = pick(op.pick);
                  if (!p) break;
                  const dl = delivery(p[0], p[1], { message: message(`again/${p[1]}`, "x") });
                  both((s) => s.saveDelivery(dl));
                  break;
                }
                case "delete": {
                  // Mostly the oldest of a client (queue order), sometimes any.
                  const p = deleteFirst ? live.find((l) => l[0] === pick(op.pick)?.[0]) : pick(op.pick);
                  if (!p) break;
                  both((s) => s.deleteDelivery(p[0], p[1]));
                  live = live.filter((l) => l !== p);
                  break;
                }
                case "update": {
                  const p = pick(op.pick);
                  if (!p) break;
                  both((s) => s.updateDelivery(p[0], p[1], (p[1] % 65535) + 1, op.state));
                  break;
                }
                case "deleteSession": {
                  const id = `c${op.client}`;
                  both((s) => s.deleteSession(id));
                  live = live.filter((l) => l[0] !== id);
                  both((s) => s.saveSession(session(id)));
                  break;
                }
                case "commit":
                  await store.commit();
                  break;
                case "reopen":
                  await store.close();
                  store = new SqliteStore({ dir: d });
                  assert.deepStrictEqual(
                    summary((await store.load()).deliveries),
                    summary((await model.load()).deliveries),
                  );
                  break;
              }
            }
            await store.close();
            store = new SqliteStore({ dir: d });
            const got = (await store.load()).deliveries;
            const want = (await model.load()).deliveries;
            assert.deepStrictEqual(summary(got), summary(want));
            assert.deepStrictEqual(
              got.map((x) => persisted(x.message)),
              want.map((x) => persisted(x.message)),
            );
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("sqlite deliveries: draining in queue order leaves no rows behind and writes no per-message row", {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-segments-"));
  try {
    const store = new SqliteStore({ dir });
    store.saveSession(session("c"));
    for (let i = 1; i <= 1000; i++) {
      store.saveDelivery(delivery("c", i));
      if (i % 100 === 0) await store.commit();
    }
    const db = new Database(join(dir, SQLITE_FILE_NAME), { readonly: true });
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    try {
      assert.equal(count("delivery_segments"), 10, "one row per session and commit");
      for (let i = 1; i <= 550; i++) {
        store.deleteDelivery("c", i);
        if (i % 37 === 0) await store.commit();
      }
      await store.commit();
      assert.equal(count("delivery_marks"), 0, "in-order acknowledgements need no mark");
      assert.equal(count("delivery_segments"), 5, "finished segments are deleted");
      const cursor = db
        .prepare("SELECT done_through FROM delivery_cursors WHERE client_id = 'c'")
        .pluck()
        .get();
      assert.equal(cursor, 550);
      store.deleteDelivery("c", 700); // out of order: a dead mark
      await store.commit();
      assert.equal(count("delivery_marks"), 1);
      for (let i = 551; i <= 1000; i++) store.deleteDelivery("c", i);
      await store.commit();
      assert.equal(count("delivery_segments"), 0);
      assert.equal(count("delivery_marks"), 0);
      assert.equal(count("delivery_cursors"), 0);
    } finally {
      db.close();
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("sqlite deliveries: acknowledgements made between commits survive a commit that fails", {
  timeout: 30_000,
}, async () => {
  // A drained queue's acknowledgements go into the delivery index at once, with no op in the batch
  // (SqliteStore.deleteDelivery): a rolled-back commit must not bring them back.
  const dir = await mkdtemp(join(tmpdir(), "sb-segments-"));
  try {
    let store = new SqliteStore({ dir });
    await store.load();
    store.saveSession(session("c"));
    for (let i = 1; i <= 10; i++) store.saveDelivery(delivery("c", i));
    await store.commit();
    for (let i = 1; i <= 4; i++) store.deleteDelivery("c", i);
    store.deleteDelivery("c", 8); // out of order
    // Another connection holds the write lock: the next commit fails (fault injection: a short busy
    // timeout on the store's own handle instead of better-sqlite3's 5 s).
    (store as unknown as { db: Database.Database }).db.pragma("busy_timeout = 20");
    const locker = new Database(join(dir, SQLITE_FILE_NAME));
    locker.prepare("BEGIN IMMEDIATE").run();
    store.saveDelivery(delivery("d", 11));
    await assert.rejects(store.commit(), /locked|busy/i);
    locker.prepare("ROLLBACK").run();
    locker.close();
    store.deleteDelivery("c", 5);
    await store.commit();
    await store.close();
    store = new SqliteStore({ dir });
    const left = (await store.load()).deliveries.map((d) => `${d.clientId}:${d.seq}`);
    await store.close();
    assert.deepEqual(left, ["c:6", "c:7", "c:9", "c:10", "d:11"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("delivery codec: every field round-trips; absent and empty stay distinct", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
          retain: fc.boolean(),
          subscriptionId: fc.option(fc.integer({ min: 1, max: 268_435_455 }), { nil: undefined }),
          packetId: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
          state: fc.constantFrom("queued" as const, "publish" as const, "pubrel" as const),
          topic: fc.string({ unit: "grapheme" }),
          payload: fc.uint8Array({ maxLength: 300 }),
          contentType: fc.option(fc.string({ unit: "grapheme" }), { nil: undefined }),
          correlationData: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
          expiresAt: fc.option(fc.integer({ min: 0, max: 2 ** 50 }), { nil: undefined }),
          userProperties: fc.option(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 4 }), {
            nil: undefined,
          }),
          payloadIsUtf8: fc.option(fc.boolean(), { nil: undefined }),
          publisherUser: fc.option(fc.string(), { nil: undefined }),
        }),
        { maxLength: 8 },
      ),
      (rows) => {
        const ds: StoredDelivery[] = rows.map((r) => {
          const m = fullMessage(r.topic);
          m.payload = Buffer.from(r.payload);
          m.properties = {};
          if (r.contentType !== undefined) m.properties.contentType = r.contentType;
          if (r.correlationData !== undefined) m.properties.correlationData = Buffer.from(r.correlationData);
          if (r.expiresAt !== undefined) m.properties.expiresAt = r.expiresAt;
          if (r.userProperties !== undefined) m.properties.userProperties = r.userProperties;
          if (r.payloadIsUtf8 !== undefined) m.properties.payloadIsUtf8 = r.payloadIsUtf8;
          if (r.publisherUser === undefined) delete m.publisherUser;
          else m.publisherUser = r.publisherUser;
          const d: StoredDelivery = {
            clientId: "c",
            seq: r.seq,
            message: m,
            qos: r.qos,
            retain: r.retain,
            state: r.state,
          };
          if (r.subscriptionId !== undefined) d.subscriptionId = r.subscriptionId;
          if (r.packetId !== undefined) d.packetId = r.packetId;
          return d;
        });
        const back: StoredDelivery[] = [];
        decodeSegment(
          encodeSegment(ds),
          "c",
          (s) => s,
          (d) => back.push(d),
        );
        assert.deepStrictEqual(
          back.map((d) => ({ ...d, message: persisted(d.message) })),
          ds.map((d) => ({ ...d, message: persisted(d.message) })),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("delivery codec: truncated or damaged segments throw, never return garbage silently", () => {
  const buf = encodeSegment([delivery("c", 1), delivery("c", 2)]);
  const boundary = encodeSegment([delivery("c", 1)]).length; // a whole first entry is a valid segment
  for (let n = 1; n < buf.length; n++) {
    if (n === boundary) continue;
    const cut = buf.subarray(0, n);
    assert.throws(() =>
      decodeSegment(
        cut,
        "c",
        (s) => s,
        () => {},
      ),
    );
  }
});
