import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AckScope,
  DEATH_COUNT,
  DEATH_QUEUE,
  type DiscardEvent,
  deathReason,
  QueueManager,
} from "../../../src/core/queues/index.js";
import type { QueueArguments } from "../../../src/store/store.js";
import { body, collect, fakeClock, msg } from "./helpers.js";

function setup(args: QueueArguments, withDlq = true) {
  const clock = fakeClock();
  const events: DiscardEvent[] = [];
  const m = new QueueManager({ now: clock.now, onDiscard: (e) => events.push(e) });
  const dlq = withDlq ? m.declare("dlq", { durable: false, autoDelete: false }) : undefined;
  const q = m.declare("q", {
    durable: false,
    autoDelete: false,
    arguments: withDlq ? { deadLetterQueue: "dlq", ...args } : args,
  });
  const drainDlq = () => {
    const out: string[] = [];
    const scope = new AckScope();
    for (let d = dlq!.get(scope, { noAck: true }); d; d = dlq!.get(scope, { noAck: true })) {
      out.push(`${body(d)}:${deathReason(d.message)}`);
    }
    return out;
  };
  return { m, q, dlq, clock, events, drainDlq };
}

test("maxLength with drop-head (the default): the oldest ready message is dead-lettered as maxlen", () => {
  const { q, drainDlq } = setup({ maxLength: 2 });
  for (let i = 0; i < 4; i++) assert.equal(q.publish(msg(`m${i}`)), "accepted");
  assert.equal(q.messageCount, 2);
  assert.deepEqual(drainDlq(), ["m0:maxlen", "m1:maxlen"]);
  const a = collect(q, "a");
  assert.deepEqual(a.got.map(body), ["m2", "m3"]);
});

test("maxLength counts ready messages only: unacknowledged ones are not dropped", () => {
  const { q, drainDlq } = setup({ maxLength: 1 });
  const a = collect(q, "a", { prefetch: 2 });
  for (let i = 0; i < 4; i++) q.publish(msg(`m${i}`));
  assert.deepEqual(a.got.map(body), ["m0", "m1"]);
  assert.equal(q.messageCount, 1);
  assert.deepEqual(drainDlq(), ["m2:maxlen"]);
});

test("maxLength with reject-publish refuses new messages and keeps the old", () => {
  const { q, drainDlq } = setup({ maxLength: 2, overflow: "reject-publish" });
  assert.equal(q.publish(msg("m0")), "accepted");
  assert.equal(q.publish(msg("m1")), "accepted");
  assert.equal(q.publish(msg("m2")), "refused");
  assert.equal(q.messageCount, 2);
  assert.deepEqual(drainDlq(), []);
  // A consumer with room takes a message straight away even at the bound.
  const a = collect(q, "a", { prefetch: 3 });
  assert.equal(q.publish(msg("m3")), "accepted");
  assert.deepEqual(a.got.map(body), ["m0", "m1", "m3"]);
});

test("maxLengthBytes counts payload bytes, with drop-head and with reject-publish", () => {
  const drop = setup({ maxLengthBytes: 10 });
  drop.q.publish(msg("aaaa"));
  drop.q.publish(msg("bbbb"));
  drop.q.publish(msg("cccc"));
  assert.equal(drop.q.messageCount, 2);
  assert.equal(drop.q.readyBytes, 8);
  assert.deepEqual(drop.drainDlq(), ["aaaa:maxlen"]);

  const reject = setup({ maxLengthBytes: 10, overflow: "reject-publish" });
  assert.equal(reject.q.publish(msg("aaaaaa")), "accepted");
  assert.equal(reject.q.publish(msg("bbbbb")), "refused");
  assert.equal(reject.q.publish(msg("cccc")), "accepted");
  assert.equal(reject.q.readyBytes, 10);
});

test("per-queue messageTtl: expired messages are never delivered and are dead-lettered as expired", () => {
  const { q, clock, drainDlq } = setup({ messageTtl: 1000 });
  q.publish(msg("old"));
  clock.advance(600);
  q.publish(msg("new"));
  clock.advance(500);
  const a = collect(q, "a");
  assert.deepEqual(a.got.map(body), ["new"]);
  assert.deepEqual(drainDlq(), ["old:expired"]);
});

test("per-message expiry (properties.expiresAt) is honoured by consume and get", () => {
  const { q, clock, drainDlq } = setup({});
  const now = clock.now();
  q.publish(msg("short", 1, now + 100));
  q.publish(msg("long", 1, now + 10_000));
  q.publish(msg("never"));
  clock.advance(200);
  assert.equal(body(q.get(new AckScope(), { noAck: true })!), "long");
  assert.deepEqual(drainDlq(), ["short:expired"]);
  // A message already expired on arrival never enters the queue.
  q.publish(msg("dead", 1, clock.now() - 1));
  assert.deepEqual(drainDlq(), ["dead:expired"]);
  assert.equal(q.messageCount, 1);
});

test("the dead-lettered copy records reason, queue and count, and loses its expiry", () => {
  const { q, clock, dlq } = setup({});
  q.publish(msg("x", 1, clock.now() + 5));
  clock.advance(10);
  assert.equal(q.sweepExpired(), 1);
  const d = dlq!.get(new AckScope())!;
  const props = new Map(d.message.properties.userProperties);
  assert.equal(deathReason(d.message), "expired");
  assert.equal(props.get(DEATH_QUEUE), "q");
  assert.equal(props.get(DEATH_COUNT), "1");
  assert.equal(d.message.properties.expiresAt, undefined);
});

test("expiry happens on its own (timer) with no consumer and no further publish", async () => {
  const events: DiscardEvent[] = [];
  const m = new QueueManager({ onDiscard: (e) => events.push(e) });
  const q = m.declare("q", { durable: false, autoDelete: false, arguments: { messageTtl: 20 } });
  q.publish(msg("a"));
  q.publish(msg("b"));
  await sleep(80);
  assert.equal(q.messageCount, 0);
  assert.deepEqual(
    events.map((e) => [e.reason, e.deadLettered]),
    [
      ["expired", false],
      ["expired", false],
    ],
  );
  m.close();
});

test("reject without requeue dead-letters as rejected", () => {
  const { q, drainDlq } = setup({});
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.nack(a.got[0]!.tag, { requeue: false });
  assert.deepEqual(drainDlq(), ["x:rejected"]);
  assert.equal(q.unackedCount, 0);
});

test("deliveryLimit: after that many deliveries a requeue dead-letters as delivery-limit", () => {
  const { q, drainDlq } = setup({ deliveryLimit: 2 });
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.nack(a.got[0]!.tag);
  assert.equal(a.got.length, 2);
  assert.equal(a.got[1]!.deliveryCount, 2);
  a.consumer.nack(a.got[1]!.tag);
  assert.equal(a.got.length, 2);
  assert.deepEqual(drainDlq(), ["x:delivery-limit"]);
});

test("consumer cancel counts toward the delivery limit too", () => {
  const { q, drainDlq } = setup({ deliveryLimit: 1 });
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.cancel();
  assert.equal(q.messageCount, 0);
  assert.deepEqual(drainDlq(), ["x:delivery-limit"]);
});

test("without a dead-letter queue (or a missing one) messages are dropped and reported", () => {
  const { q, events } = setup({ maxLength: 0, deadLetterQueue: "nowhere" });
  q.publish(msg("x"));
  assert.deepEqual(
    events.map((e) => [e.queue, e.reason, e.deadLettered]),
    [["q", "maxlen", false]],
  );
});

test("a dead-letter chain: q -> dlq1 (ttl) -> dlq2", () => {
  const clock = fakeClock();
  const m = new QueueManager({ now: clock.now });
  const last = m.declare("dlq2", { durable: false, autoDelete: false });
  m.declare("dlq1", {
    durable: false,
    autoDelete: false,
    arguments: { messageTtl: 100, deadLetterQueue: "dlq2" },
  });
  const q = m.declare("q", { durable: false, autoDelete: false, arguments: { deadLetterQueue: "dlq1" } });
  const a = collect(q, "a");
  q.publish(msg("x"));
  a.consumer.nack(a.got[0]!.tag, { requeue: false });
  clock.advance(200);
  m.find("dlq1")!.sweepExpired();
  const d = last.get(new AckScope())!;
  assert.equal(deathReason(d.message), "expired");
  assert.equal(new Map(d.message.properties.userProperties).get(DEATH_COUNT), "2");
});

test("a queue dead-lettering to itself drops expired messages instead of cycling", () => {
  const clock = fakeClock();
  const events: DiscardEvent[] = [];
  const m = new QueueManager({ now: clock.now, onDiscard: (e) => events.push(e) });
  const q = m.declare("q", {
    durable: false,
    autoDelete: false,
    arguments: { messageTtl: 10, deadLetterQueue: "q" },
  });
  q.publish(msg("x"));
  clock.advance(20);
  q.sweepExpired();
  assert.equal(q.messageCount, 0);
  assert.equal(events[0]!.deadLettered, false);
  m.close();
});
