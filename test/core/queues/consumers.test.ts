import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AckScope,
  type Consumer,
  type Delivery,
  QueueError,
  QueueManager,
} from "../../../src/core/queues/index.js";
import { body, collect, msg } from "./helpers.js";

function setup() {
  const m = new QueueManager();
  return { m, q: m.declare("work", { durable: false, autoDelete: false }) };
}

test("competing consumers are served round-robin", () => {
  const { q } = setup();
  const a = collect(q, "a");
  const b = collect(q, "b");
  const c = collect(q, "c");
  for (let i = 0; i < 9; i++) q.publish(msg(`m${i}`));
  assert.deepEqual(a.got.map(body), ["m0", "m3", "m6"]);
  assert.deepEqual(b.got.map(body), ["m1", "m4", "m7"]);
  assert.deepEqual(c.got.map(body), ["m2", "m5", "m8"]);
  assert.equal(q.unackedCount, 9);
  assert.equal(q.messageCount, 0);
});

test("messages published with no consumer wait, then go out in order", () => {
  const { q } = setup();
  for (let i = 0; i < 3; i++) q.publish(msg(`m${i}`));
  assert.equal(q.messageCount, 3);
  const a = collect(q, "a");
  assert.deepEqual(a.got.map(body), ["m0", "m1", "m2"]);
  assert.equal(a.got[0]!.redelivered, false);
  assert.equal(a.got[0]!.deliveryCount, 1);
  assert.equal(a.got[0]!.consumerTag, "a");
});

test("prefetch bounds each consumer's unacknowledged deliveries; acks refill the window", () => {
  const { q } = setup();
  const a = collect(q, "a", { prefetch: 2 });
  const b = collect(q, "b", { prefetch: 1 });
  for (let i = 0; i < 6; i++) q.publish(msg(`m${i}`));
  assert.equal(a.got.length, 2);
  assert.equal(b.got.length, 1);
  assert.equal(q.messageCount, 3);
  assert.equal(b.consumer.ack(b.got[0]!.tag), 1);
  assert.equal(b.got.length, 2);
  assert.equal(a.consumer.ack(a.got[1]!.tag, true), 2);
  assert.equal(a.got.length, 4);
  assert.equal(q.messageCount, 0);
  assert.equal(q.unackedCount, 3);
});

test("tags are monotonic per scope; ack of an unknown tag settles nothing", () => {
  const { q } = setup();
  const a = collect(q, "a");
  q.publish(msg("x"));
  q.publish(msg("y"));
  assert.deepEqual(
    a.got.map((d) => d.tag),
    [1, 2],
  );
  assert.equal(a.consumer.ack(99), 0);
  assert.equal(a.consumer.ack(1), 1);
  assert.equal(a.consumer.ack(1), 0, "double ack");
});

test("ack multiple settles every tag up to and including the one given (AMQP multiple, STOMP client)", () => {
  const { q } = setup();
  const a = collect(q, "a");
  for (let i = 0; i < 5; i++) q.publish(msg(`m${i}`));
  assert.equal(a.consumer.ack(3, true), 3);
  assert.equal(q.unackedCount, 2);
  assert.equal(a.consumer.ack(0, true), 2, "multiple with tag 0 = everything");
  assert.equal(q.unackedCount, 0);
});

test("nack with requeue puts messages back at the front in original order, flagged redelivered", () => {
  const { q } = setup();
  for (let i = 0; i < 4; i++) q.publish(msg(`m${i}`));
  const a = collect(q, "a", { prefetch: 2 });
  assert.deepEqual(a.got.map(body), ["m0", "m1"]);
  // Requeue m1 then m0: they must come back as m0, m1 — ahead of m2, m3.
  a.consumer.cancel({ requeueUnacked: false });
  a.consumer.scope.nack(2);
  a.consumer.scope.nack(1);
  assert.equal(q.messageCount, 4);
  const b = collect(q, "b");
  assert.deepEqual(b.got.map(body), ["m0", "m1", "m2", "m3"]);
  assert.deepEqual(
    b.got.map((d) => d.redelivered),
    [true, true, false, false],
  );
  assert.equal(b.got[0]!.deliveryCount, 2);
});

test("nack multiple with requeue keeps order; reject without requeue drops when no dead-letter queue", () => {
  const discarded: string[] = [];
  const m2 = new QueueManager({ onDiscard: (e) => discarded.push(`${e.message.payload}:${e.reason}`) });
  const q2 = m2.declare("x", { durable: false, autoDelete: false });
  const a = collect(q2, "a", { prefetch: 3 });
  for (let i = 0; i < 3; i++) q2.publish(msg(`m${i}`));
  assert.equal(a.consumer.scope.reject(a.got[0]!.tag, false), 1);
  assert.deepEqual(discarded, ["m0:rejected"]);
  assert.equal(a.consumer.nack(a.got[2]!.tag, { multiple: true, requeue: true }), 2);
  // They were requeued and immediately redelivered to the same consumer (it has room), in order.
  assert.deepEqual(a.got.slice(3).map(body), ["m1", "m2"]);
  assert.ok(a.got.slice(3).every((d) => d.redelivered));
});

test("cancelling a consumer requeues its unacked messages in original order, redelivered", () => {
  const { q } = setup();
  const a = collect(q, "a");
  const b = collect(q, "b", { prefetch: 1 });
  for (let i = 0; i < 6; i++) q.publish(msg(`m${i}`));
  // a got m0, m2, m3, m4, m5 (b's window is 1); b holds m1.
  assert.deepEqual(b.got.map(body), ["m1"]);
  a.consumer.ack(a.got[1]!.tag); // m2 done
  a.consumer.cancel();
  assert.equal(q.consumerCount, 1);
  assert.equal(q.messageCount, 4);
  b.consumer.ack(b.got[0]!.tag);
  b.consumer.ack(b.got[1]!.tag);
  b.consumer.ack(b.got[2]!.tag);
  b.consumer.ack(b.got[3]!.tag);
  assert.deepEqual(b.got.map(body), ["m1", "m0", "m3", "m4", "m5"]);
  assert.deepEqual(
    b.got.slice(1).map((d) => d.redelivered),
    [true, true, true, true],
  );
});

test("get() hands out one message with a tag, then undefined when empty", () => {
  const { q } = setup();
  const scope = new AckScope();
  assert.equal(q.get(scope), undefined);
  q.publish(msg("a"));
  q.publish(msg("b"));
  const d = q.get(scope)!;
  assert.equal(body(d), "a");
  assert.equal(d.consumerTag, undefined);
  assert.equal(q.messageCount, 1);
  assert.equal(q.unackedCount, 1);
  scope.nack(d.tag);
  assert.equal(q.messageCount, 2);
  const again = q.get(scope)!;
  assert.equal(body(again), "a");
  assert.equal(again.redelivered, true);
  const noAck = q.get(scope, { noAck: true })!;
  assert.equal(body(noAck), "b");
  assert.equal(scope.ack(again.tag), 1);
  assert.equal(q.unackedCount, 0);
  assert.equal(q.messageCount, 0);
});

test("no-ack consumers: the message is gone once sent; prefetch does not apply", () => {
  const { q } = setup();
  const a = collect(q, "a", { noAck: true, prefetch: 1 });
  for (let i = 0; i < 5; i++) q.publish(msg(`m${i}`));
  assert.equal(a.got.length, 5);
  assert.equal(q.unackedCount, 0);
  assert.equal(a.consumer.scope.unackedCount, 0);
});

test("one scope (AMQP channel): ack multiple spans its consumers on several queues and its gets", () => {
  const m = new QueueManager();
  const q1 = m.declare("q1", { durable: false, autoDelete: false });
  const q2 = m.declare("q2", { durable: false, autoDelete: false });
  const channel = new AckScope();
  const a = collect(q1, "a", { scope: channel });
  const b = collect(q2, "b", { scope: channel });
  q1.publish(msg("1"));
  q2.publish(msg("2"));
  q2.publish(msg("3"));
  const g = q1.get(channel);
  assert.equal(g, undefined);
  assert.deepEqual([...a.got, ...b.got].map((d) => d.tag).sort(), [1, 2, 3]);
  assert.equal(channel.ack(2, true), 2);
  assert.equal(q1.unackedCount, 0);
  assert.equal(q2.unackedCount, 1);
  channel.close();
  assert.equal(q1.consumerCount, 0);
  assert.equal(q2.consumerCount, 0);
  assert.equal(q2.messageCount, 1, "channel close requeues what it held");
});

test("AMQP basic.cancel keeps unacked messages ackable on the channel", () => {
  const { q } = setup();
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.cancel({ requeueUnacked: false });
  assert.equal(q.unackedCount, 1);
  assert.equal(a.consumer.ack(a.got[0]!.tag), 1);
  assert.equal(q.unackedCount, 0);
  assert.equal(q.messageCount, 0);
});

test("acking from inside onMessage (re-entrant) keeps order and delivers everything", () => {
  const { q } = setup();
  const seen: string[] = [];
  let consumer: Consumer | undefined;
  consumer = q.addConsumer({
    tag: "a",
    prefetch: 1,
    onMessage: (d: Delivery) => {
      seen.push(body(d));
      consumer!.ack(d.tag); // re-enters drain(): must loop, not recurse out of order
    },
  });
  for (let i = 0; i < 5; i++) q.publish(msg(`m${i}`));
  assert.deepEqual(seen, ["m0", "m1", "m2", "m3", "m4"]);
  assert.equal(q.unackedCount, 0);
});

test("paused consumers get nothing until resumed (backpressure)", () => {
  const { q } = setup();
  const a = collect(q, "a");
  a.consumer.setFlow(false);
  q.publish(msg("x"));
  assert.equal(a.got.length, 0);
  assert.equal(q.messageCount, 1);
  a.consumer.setFlow(true);
  assert.equal(a.got.length, 1);
});

test("exclusive consumer: refused when others consume, and blocks others (AMQP 403)", () => {
  const { q } = setup();
  const a = collect(q, "a");
  assert.throws(
    () => q.addConsumer({ tag: "x", exclusive: true, onMessage: () => {} }),
    (e: unknown) => e instanceof QueueError && e.code === "ACCESS_REFUSED",
  );
  a.consumer.cancel();
  collect(q, "x", { exclusive: true });
  assert.throws(
    () => q.addConsumer({ tag: "y", onMessage: () => {} }),
    (e: unknown) => e instanceof QueueError && e.code === "ACCESS_REFUSED",
  );
});
