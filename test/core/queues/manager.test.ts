import assert from "node:assert/strict";
import { test } from "node:test";
import { AckScope, QueueError, type QueueErrorCode, QueueManager } from "../../../src/core/queues/index.js";
import { collect, msg } from "./helpers.js";

const code = (c: QueueErrorCode) => (e: unknown) => e instanceof QueueError && e.code === c;
const plain = { durable: true, autoDelete: false };

test("declare returns the existing queue when the settings are equal", () => {
  const m = new QueueManager();
  const q = m.declare("a", { ...plain, arguments: { maxLength: 5 } });
  assert.equal(m.declare("a", { ...plain, arguments: { maxLength: 5 } }), q);
  assert.equal(m.size, 1);
});

test("declare with different settings fails with PRECONDITION_FAILED (AMQP 406)", () => {
  const m = new QueueManager();
  m.declare("a", { ...plain, arguments: { maxLength: 5 } });
  assert.throws(
    () => m.declare("a", { ...plain, durable: false, arguments: { maxLength: 5 } }),
    code("PRECONDITION_FAILED"),
  );
  assert.throws(
    () => m.declare("a", { ...plain, autoDelete: true, arguments: { maxLength: 5 } }),
    code("PRECONDITION_FAILED"),
  );
  assert.throws(() => m.declare("a", { ...plain, arguments: { maxLength: 6 } }), code("PRECONDITION_FAILED"));
  assert.throws(() => m.declare("a", plain), code("PRECONDITION_FAILED"));
  assert.throws(
    () => m.declare("a", { ...plain, arguments: { maxLength: 5 }, exclusiveOwner: "c1" }),
    code("PRECONDITION_FAILED"),
  );
});

test("bad arguments and empty names are refused with PRECONDITION_FAILED", () => {
  const m = new QueueManager();
  assert.throws(
    () => m.declare("a", { ...plain, arguments: { maxLength: -1 } }),
    code("PRECONDITION_FAILED"),
  );
  assert.throws(
    () => m.declare("a", { ...plain, arguments: { messageTtl: 1.5 } }),
    code("PRECONDITION_FAILED"),
  );
  assert.throws(
    () => m.declare("a", { ...plain, arguments: { overflow: "drop-tail" as "drop-head" } }),
    code("PRECONDITION_FAILED"),
  );
  assert.throws(() => m.declare("", plain), code("PRECONDITION_FAILED"));
  assert.equal(m.size, 0);
});

test("passive lookup: NOT_FOUND for a missing queue (AMQP 404)", () => {
  const m = new QueueManager();
  assert.throws(() => m.lookup("nope"), code("NOT_FOUND"));
  const q = m.declare("a", plain);
  assert.equal(m.lookup("a"), q);
  assert.equal(m.find("nope"), undefined);
});

test("delete returns the ready message count; if-unused and if-empty refuse (AMQP 406)", () => {
  const m = new QueueManager();
  const q = m.declare("a", plain);
  q.publish(msg("1"));
  q.publish(msg("2"));
  assert.throws(() => m.delete("a", { ifEmpty: true }), code("PRECONDITION_FAILED"));
  const c = collect(q, "c", { prefetch: 1 });
  assert.throws(() => m.delete("a", { ifUnused: true }), code("PRECONDITION_FAILED"));
  let cancelled = "";
  const c2 = q.addConsumer({ tag: "c2", prefetch: 1, onMessage: () => {}, onCancel: (r) => (cancelled = r) });
  assert.equal(q.messageCount, 0);
  assert.equal(m.delete("a", { ifEmpty: true }), 0);
  assert.equal(cancelled, "deleted", "consumers hear of the deletion (AMQP server basic.cancel)");
  assert.equal(q.isDeleted, true);
  assert.equal(m.find("a"), undefined);
  assert.equal(c.consumer.ack(c.got[0]!.tag), 1, "acks after deletion are harmless");
  assert.equal(c2.active, false);
  assert.throws(() => m.delete("a"), code("NOT_FOUND"));
  assert.equal(q.publish(msg("late")), "refused");
});

test("purge removes ready messages, not unacknowledged ones", () => {
  const m = new QueueManager();
  const q = m.declare("a", plain);
  const c = collect(q, "c", { prefetch: 1 });
  for (let i = 0; i < 4; i++) q.publish(msg(`${i}`));
  assert.equal(m.purge("a"), 3);
  assert.equal(q.messageCount, 0);
  assert.equal(q.unackedCount, 1);
  c.consumer.nack(c.got[0]!.tag);
  assert.equal(c.got.length, 2, "the nacked one is back and redelivered");
});

test("auto-delete: the queue goes when its last consumer is cancelled, not before it had one", () => {
  const m = new QueueManager();
  const q = m.declare("auto", { durable: false, autoDelete: true });
  q.publish(msg("x"));
  assert.equal(m.find("auto"), q);
  const a = collect(q, "a");
  const b = collect(q, "b");
  a.consumer.cancel();
  assert.equal(m.find("auto"), q);
  b.consumer.cancel();
  assert.equal(m.find("auto"), undefined);
  assert.equal(q.isDeleted, true);
});

test("exclusive queues belong to their owner (AMQP 405) and go when it goes", () => {
  const m = new QueueManager();
  const q = m.declare("ex", { durable: false, autoDelete: false, exclusiveOwner: "conn-1" });
  assert.equal(m.declare("ex", { durable: false, autoDelete: false, exclusiveOwner: "conn-1" }), q);
  assert.throws(
    () => m.declare("ex", { durable: false, autoDelete: false, exclusiveOwner: "conn-2" }),
    code("RESOURCE_LOCKED"),
  );
  assert.throws(() => m.lookup("ex", "conn-2"), code("RESOURCE_LOCKED"));
  assert.throws(
    () => q.addConsumer({ tag: "t", owner: "conn-2", onMessage: () => {} }),
    code("RESOURCE_LOCKED"),
  );
  assert.throws(() => q.get(new AckScope(), { owner: "conn-2" }), code("RESOURCE_LOCKED"));
  assert.throws(() => m.delete("ex", { owner: "conn-2" }), code("RESOURCE_LOCKED"));
  assert.throws(() => m.purge("ex", "conn-2"), code("RESOURCE_LOCKED"));
  collect(q, "t", { owner: "conn-1" });
  m.declare("other", { durable: false, autoDelete: false, exclusiveOwner: "conn-2" });
  assert.deepEqual(m.ownerGone("conn-1"), ["ex"]);
  assert.equal(q.isDeleted, true);
  assert.equal(m.size, 1);
});

test("managers are independent (no global state)", () => {
  const m1 = new QueueManager();
  const m2 = new QueueManager();
  m1.declare("a", plain);
  assert.equal(m2.find("a"), undefined);
});
