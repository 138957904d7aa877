/** Queues with amqplib (amqp0-9-1.xml class queue and RabbitMQ's x- arguments), on the core's named queues. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type amqp from "amqplib";
import { ReplyCode } from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type Conn, expectCode, open, take, until } from "./amqp-client.js";

let b: TestBroker;
let conn: Conn;
let ch: amqp.Channel;
before(async () => {
  b = await startTestBroker();
  ({ conn, ch } = await open(b.amqpUrl));
});
after(async () => {
  await conn.close();
  await b.close();
});

async function fresh(): Promise<amqp.Channel> {
  const c = await conn.createChannel();
  c.on("error", () => {});
  return c;
}

async function bodies(queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

test("server-named queues are amq.gen-*; declare-ok counts messages and consumers", {
  timeout: 10_000,
}, async () => {
  const q = await ch.assertQueue("", { exclusive: true });
  assert.match(q.queue, /^amq\.gen-/);
  ch.sendToQueue(q.queue, Buffer.from("1"));
  ch.sendToQueue(q.queue, Buffer.from("2"));
  const again = await ch.checkQueue(q.queue);
  assert.equal(again.messageCount, 2);
  assert.equal(again.consumerCount, 0);
});

test("passive declare of a missing queue: 404; reserved amq. prefix: 403", { timeout: 10_000 }, async () => {
  await expectCode((await fresh()).checkQueue("missing-q"), ReplyCode.NotFound);
  await expectCode((await fresh()).assertQueue("amq.mine"), ReplyCode.AccessRefused);
});

test("redeclare with other settings: 406 PRECONDITION_FAILED", { timeout: 10_000 }, async () => {
  await ch.assertQueue("eq-q", { durable: false, arguments: { "x-max-length": 5 } });
  await expectCode((await fresh()).assertQueue("eq-q", { durable: true }), ReplyCode.PreconditionFailed);
  await expectCode(
    (await fresh()).assertQueue("eq-q", { durable: false, arguments: { "x-max-length": 6 } }),
    ReplyCode.PreconditionFailed,
  );
  await expectCode(
    (await fresh()).assertQueue("eq-q", {
      durable: false,
      arguments: { "x-max-length": 5, "x-dead-letter-exchange": "dlx" },
    }),
    ReplyCode.PreconditionFailed,
  );
  await ch.assertQueue("eq-q", { durable: false, arguments: { "x-max-length": 5 } });
  await ch.deleteQueue("eq-q");
});

test("bad argument values: 406", { timeout: 10_000 }, async () => {
  await expectCode(
    (await fresh()).assertQueue("bad-args", { arguments: { "x-message-ttl": -1 } }),
    ReplyCode.PreconditionFailed,
  );
  await expectCode(
    (await fresh()).assertQueue("bad-args", { arguments: { "x-overflow": "sometimes" } }),
    ReplyCode.PreconditionFailed,
  );
  await expectCode(
    (await fresh()).assertQueue("bad-args", { arguments: { "x-expires": 0 } }),
    ReplyCode.PreconditionFailed,
  );
});

test("exclusive queues: another connection gets 405 RESOURCE_LOCKED; they go with their connection", {
  timeout: 10_000,
}, async () => {
  const other = await open(b.amqpUrl);
  const { queue } = await other.ch.assertQueue("excl-q", { exclusive: true });
  await expectCode((await fresh()).checkQueue(queue), ReplyCode.ResourceLocked);
  await expectCode(
    (await fresh()).consume(queue, () => {}),
    ReplyCode.ResourceLocked,
  );
  await other.conn.close();
  await until(async () => {
    try {
      await (await fresh()).checkQueue(queue);
      return false;
    } catch (err) {
      return (err as { code?: number }).code === ReplyCode.NotFound;
    }
  });
});

test("auto-delete queue goes when its last consumer is cancelled", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("auto-q", { autoDelete: true });
  const { consumerTag } = await ch.consume(queue, () => {});
  await ch.bindQueue(queue, "amq.direct", "auto");
  await ch.cancel(consumerTag);
  await expectCode((await fresh()).checkQueue(queue), ReplyCode.NotFound);
});

test("bind / unbind; purge returns the count; delete if-unused (406) and if-empty (406)", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("bp-q");
  await ch.bindQueue(queue, "amq.direct", "bp");
  ch.publish("amq.direct", "bp", Buffer.from("a"));
  ch.publish("amq.direct", "bp", Buffer.from("b"));
  await ch.unbindQueue(queue, "amq.direct", "bp");
  ch.publish("amq.direct", "bp", Buffer.from("c"));
  assert.equal((await ch.checkQueue(queue)).messageCount, 2);
  await expectCode((await fresh()).deleteQueue(queue, { ifEmpty: true }), ReplyCode.PreconditionFailed);
  assert.equal((await ch.purgeQueue(queue)).messageCount, 2);
  const c2 = await fresh();
  await c2.consume(queue, () => {});
  await expectCode((await fresh()).deleteQueue(queue, { ifUnused: true }), ReplyCode.PreconditionFailed);
  assert.equal((await ch.deleteQueue(queue)).messageCount, 0);
  // Deleting again is not an error (RabbitMQ).
  await ch.deleteQueue(queue);
});

test("x-message-ttl and per-message expiration: expired messages are not delivered", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-message-ttl": 50 } });
  ch.sendToQueue(queue, Buffer.from("old"));
  ch.sendToQueue(queue, Buffer.from("per-message"), { expiration: "20" });
  await until(async () => (await ch.checkQueue(queue)).messageCount === 0);
  const { queue: q2 } = await ch.assertQueue("", { exclusive: true });
  ch.sendToQueue(q2, Buffer.from("short"), { expiration: "10" });
  ch.sendToQueue(q2, Buffer.from("kept"));
  await until(async () => (await ch.checkQueue(q2)).messageCount === 1);
  assert.deepEqual(await bodies(q2), ["kept"]);
});

test("x-max-length with drop-head drops the oldest; reject-publish refuses the newest", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-max-length": 2 } });
  for (const s of ["1", "2", "3"]) ch.sendToQueue(queue, Buffer.from(s));
  await until(async () => (await ch.checkQueue(queue)).messageCount === 2);
  assert.deepEqual(await bodies(queue), ["2", "3"]);
  const { queue: rq } = await ch.assertQueue("", {
    exclusive: true,
    arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
  });
  for (const s of ["1", "2", "3"]) ch.sendToQueue(rq, Buffer.from(s));
  await until(async () => (await ch.checkQueue(rq)).messageCount === 2);
  assert.deepEqual(await bodies(rq), ["1", "2"]);
});

test("x-max-length-bytes bounds the bodies' bytes", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-max-length-bytes": 10 } });
  for (const s of ["aaaa", "bbbb", "cccc"]) ch.sendToQueue(queue, Buffer.from(s));
  await until(async () => (await ch.checkQueue(queue)).messageCount === 2);
  assert.deepEqual(await bodies(queue), ["bbbb", "cccc"]);
});

test("x-expires deletes a queue that stays unused", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("expiring-q", { arguments: { "x-expires": 100 } });
  // Polled on the router: a passive declare is a use and would keep the queue alive.
  assert.ok(b.handle.router.queues.find(queue));
  await until(() => b.handle.router.queues.find(queue) === undefined);
  await expectCode((await fresh()).checkQueue(queue), ReplyCode.NotFound);
});

test("dead-letter chain: reject -> DLX with routing key -> TTL queue -> DLX -> final queue", {
  timeout: 15_000,
}, async () => {
  await ch.assertExchange("dlx1", "direct", { durable: false });
  await ch.assertExchange("dlx2", "fanout", { durable: false });
  const { queue: work } = await ch.assertQueue("dl-work", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "dlx1", "x-dead-letter-routing-key": "retry" },
  });
  const { queue: retry } = await ch.assertQueue("dl-retry", {
    exclusive: true,
    arguments: { "x-message-ttl": 30, "x-dead-letter-exchange": "dlx2" },
  });
  const { queue: final } = await ch.assertQueue("dl-final", { exclusive: true });
  await ch.bindQueue(retry, "dlx1", "retry");
  await ch.bindQueue(final, "dlx2", "");
  ch.sendToQueue(work, Buffer.from("job"), { headers: { attempt: 1 }, messageId: "m-1" });
  const [m] = await take(ch, work, 1);
  ch.reject(m!, false);
  const [dead] = await take(ch, final, 1, { noAck: true });
  assert.equal(dead!.content.toString(), "job");
  assert.equal(dead!.properties.messageId, "m-1");
  assert.equal(dead!.properties.headers?.attempt, 1);
  assert.equal(dead!.properties.headers?.["x-death-reason"], "expired");
  assert.equal(dead!.properties.headers?.["x-death-queue"], "dl-retry");
  assert.equal(dead!.properties.headers?.["x-death-count"], 2);
  // RabbitMQ's x-death array: newest first, one entry per queue and reason.
  const deaths = dead!.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>;
  assert.deepEqual(
    deaths.map((d) => [d.queue, d.reason, d.count, d.exchange, d["routing-keys"]]),
    [
      ["dl-retry", "expired", 1, "dlx1", ["retry"]],
      ["dl-work", "rejected", 1, "", [work]],
    ],
  );
  assert.equal(typeof deaths[0]!.time, "number");
  assert.equal(dead!.properties.headers?.["x-first-death-reason"], "rejected");
  assert.equal(dead!.properties.headers?.["x-first-death-queue"], "dl-work");
  assert.equal(dead!.fields.exchange, "dlx2");
  assert.equal(dead!.fields.routingKey, "retry");
});

test("x-max-length overflow dead-letters the dropped head", { timeout: 10_000 }, async () => {
  const { queue: dlq } = await ch.assertQueue("", { exclusive: true });
  const { queue } = await ch.assertQueue("", {
    exclusive: true,
    arguments: { "x-max-length": 1, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq },
  });
  ch.sendToQueue(queue, Buffer.from("first"));
  ch.sendToQueue(queue, Buffer.from("second"));
  const [m] = await take(ch, dlq, 1, { noAck: true });
  assert.equal(m!.content.toString(), "first");
  assert.equal(m!.properties.headers?.["x-death-reason"], "maxlen");
});

test("x-single-active-consumer: one consumer gets everything; the next takes over when it goes", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("sac-q", {
    exclusive: false,
    arguments: { "x-single-active-consumer": true },
  });
  const c1 = await fresh();
  const c2 = await fresh();
  const got1: string[] = [];
  const got2: string[] = [];
  const { consumerTag: t1 } = await c1.consume(queue, (m) => m && got1.push(m.content.toString()), {
    noAck: true,
  });
  await c2.consume(queue, (m) => m && got2.push(m.content.toString()), { noAck: true });
  for (const s of ["a", "b", "c"]) ch.sendToQueue(queue, Buffer.from(s));
  await until(() => got1.length === 3);
  assert.deepEqual(got2, []);
  await c1.cancel(t1);
  for (const s of ["d", "e"]) ch.sendToQueue(queue, Buffer.from(s));
  await until(() => got2.length === 2);
  assert.deepEqual(got2, ["d", "e"]);
  await ch.deleteQueue(queue);
});

test("x-delivery-limit: a message requeued too often is dead-lettered as delivery-limit", {
  timeout: 10_000,
}, async () => {
  const { queue: dlq } = await ch.assertQueue("", { exclusive: true });
  const { queue } = await ch.assertQueue("", {
    exclusive: true,
    arguments: { "x-delivery-limit": 2, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq },
  });
  ch.sendToQueue(queue, Buffer.from("poison"));
  const c = await fresh();
  let deliveries = 0;
  await c.consume(queue, (m) => {
    if (!m) return;
    deliveries++;
    c.nack(m, false, true);
  });
  const [dead] = await take(ch, dlq, 1, { noAck: true });
  assert.equal(dead!.content.toString(), "poison");
  assert.equal(dead!.properties.headers?.["x-death-reason"], "delivery-limit");
  assert.equal(deliveries, 2);
});
