import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { QueueManager } from "../../../src/core/queues/index.js";
import { createStore } from "../../../src/store/create-store.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import type { Store } from "../../../src/store/store.js";
import { body, collect, msg } from "./helpers.js";

/** The scenario every store must survive: run it, "restart", check what came back. */
async function restartScenario(open: () => Promise<Store> | Store, reopen: () => Promise<Store> | Store) {
  const store = await open();
  const m1 = new QueueManager({ store });
  const q = m1.declare("jobs", { durable: true, autoDelete: false, arguments: { maxLength: 100 } });
  const transient = m1.declare("tmp", { durable: false, autoDelete: false });
  transient.publish(msg("t1"));
  for (let i = 0; i < 5; i++) q.publish(msg(`p${i}`));
  q.publish(msg("qos0", 0)); // not persistent: lives in memory only
  const a = collect(q, "a", { prefetch: 3 });
  assert.deepEqual(a.got.map(body), ["p0", "p1", "p2"]);
  a.consumer.ack(a.got[0]!.tag); // p0 done; the window refills with p3: p1, p2, p3 unacked at the crash
  await store.commit();
  m1.close();

  const store2 = await reopen();
  const state = await store2.load();
  assert.deepEqual(
    state.queues.map((s) => s.name),
    ["jobs"],
    "non-durable queues are not stored",
  );
  assert.deepEqual(state.queues[0]!.arguments, { maxLength: 100 });
  const m2 = new QueueManager({ store: store2 });
  m2.load(state);
  const q2 = m2.lookup("jobs");
  assert.equal(m2.find("tmp"), undefined);
  assert.equal(q2.messageCount, 4);
  const b = collect(q2, "b");
  assert.deepEqual(b.got.map(body), ["p1", "p2", "p3", "p4"]);
  assert.deepEqual(
    b.got.map((d) => d.redelivered),
    [true, true, true, false],
  );
  // New messages continue after the restored ones (seq keeps going), and acks reach the store.
  q2.publish(msg("p5"));
  b.consumer.ack(b.got.at(-1)!.tag, true);
  await store2.commit();
  const after = await store2.load();
  assert.equal(after.queueMessages.length, 0);
  return store2;
}

test("durable queue + persistent messages survive a restart (MemoryStore)", async () => {
  const store = new MemoryStore();
  await restartScenario(
    () => store,
    () => store,
  );
});

test("durable queue + persistent messages survive a restart (SqliteStore)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-queues-"));
  const first = createStore("sqlite", dir);
  let second: Store | undefined;
  try {
    second = await restartScenario(
      () => first,
      async () => {
        await first.close();
        return createStore("sqlite", dir);
      },
    );
  } finally {
    await second?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("non-durable queues never touch the store", async () => {
  const store = new MemoryStore();
  const m = new QueueManager({ store });
  const q = m.declare("t", { durable: false, autoDelete: false, arguments: { deadLetterQueue: "d" } });
  m.declare("d", { durable: false, autoDelete: false });
  const a = collect(q, "a");
  q.publish(msg("x"));
  q.publish(msg("y"));
  a.consumer.nack(a.got[0]!.tag, { requeue: false });
  const state = await store.load();
  assert.equal(state.queues.length, 0);
  assert.equal(state.queueMessages.length, 0);
});

test("exclusive queues are not stored even when durable", async () => {
  const store = new MemoryStore();
  const m = new QueueManager({ store });
  m.declare("ex", { durable: true, autoDelete: false, exclusiveOwner: "c" }).publish(msg("x"));
  const state = await store.load();
  assert.equal(state.queues.length, 0);
  assert.equal(state.queueMessages.length, 0);
});

test("store writes: no-ack delivery of an immediate message writes nothing; deleting a queue removes it", async () => {
  const store = new MemoryStore();
  const m = new QueueManager({ store });
  const q = m.declare("d", { durable: true, autoDelete: false });
  collect(q, "a", { noAck: true });
  q.publish(msg("x"));
  assert.equal((await store.load()).queueMessages.length, 0);
  const q2 = m.declare("e", { durable: true, autoDelete: false });
  q2.publish(msg("y"));
  assert.equal((await store.load()).queueMessages.length, 1);
  m.delete("e");
  const state = await store.load();
  assert.deepEqual(
    state.queues.map((s) => s.name),
    ["d"],
  );
  assert.equal(state.queueMessages.length, 0);
});

test("dead-lettering between durable queues moves the stored message", async () => {
  const store = new MemoryStore();
  const m = new QueueManager({ store });
  m.declare("dlq", { durable: true, autoDelete: false });
  const q = m.declare("q", { durable: true, autoDelete: false, arguments: { deadLetterQueue: "dlq" } });
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.nack(a.got[0]!.tag, { requeue: false });
  const state = await store.load();
  assert.deepEqual(
    state.queueMessages.map((s) => [s.queue, s.message.payload.toString(), s.deliveryCount]),
    [["dlq", "x", 0]],
  );
});

test("restored messages already past their expiry are dead-lettered at load", async () => {
  const store = new MemoryStore();
  const m1 = new QueueManager({ store });
  m1.declare("q", { durable: true, autoDelete: false }).publish(msg("x", 1, Date.now() - 1_000 + 500));
  await new Promise((r) => setTimeout(r, 600));
  const m2 = new QueueManager({ store });
  m2.load(await store.load());
  assert.equal(m2.lookup("q").messageCount, 0);
  assert.equal((await store.load()).queueMessages.length, 0);
  m1.close();
  m2.close();
});
