/** Publisher confirms, transactions and direct reply-to RPC with amqplib. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type amqp from "amqplib";
import { ReplyCode } from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type Conn, expectCode, type Msg, open, openConfirm, sleep, take, until } from "./amqp-client.js";

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

test("confirms: every publish is acked, persistent ones after the store commit", {
  timeout: 10_000,
}, async () => {
  const { conn: c, ch: cc } = await openConfirm(b.amqpUrl);
  const { queue } = await cc.assertQueue("confirm-q", { durable: true });
  let commits = 0;
  const realCommit = b.store.commit.bind(b.store);
  b.store.commit = async () => {
    commits++;
    return realCommit();
  };
  try {
    for (let i = 0; i < 50; i++) cc.sendToQueue(queue, Buffer.from(String(i)), { persistent: i % 2 === 0 });
    cc.publish("amq.direct", "unroutable", Buffer.from("x"));
    await cc.waitForConfirms();
    assert.ok(commits >= 1, "persistent messages were confirmed after a store commit");
    assert.equal((await cc.checkQueue(queue)).messageCount, 50);
  } finally {
    b.store.commit = realCommit;
  }
  await cc.deleteQueue(queue);
  await c.close();
});

test("confirms: a queue at its bound with reject-publish nacks the message", {
  timeout: 10_000,
}, async () => {
  const { conn: c, ch: cc } = await openConfirm(b.amqpUrl);
  const { queue } = await cc.assertQueue("", {
    exclusive: true,
    arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
  });
  const results: Array<Error | null | undefined> = [];
  await new Promise<void>((resolve) => {
    cc.sendToQueue(queue, Buffer.from("1"), {}, (err) => results.push(err));
    cc.sendToQueue(queue, Buffer.from("2"), {}, (err) => {
      results.push(err);
      resolve();
    });
  });
  assert.equal(results[0], null);
  assert.ok(results[1] instanceof Error, "the second publish was nacked");
  await c.close();
});

test("confirm.select on a transactional channel: 406", { timeout: 10_000 }, async () => {
  const { RawAmqp } = await import("./raw-client.js");
  const raw = await RawAmqp.ready(b.amqpPort);
  raw.method(1, "tx.select");
  await raw.waitFor("tx.select-ok", 1);
  raw.method(1, "confirm.select");
  const close = await raw.waitFor("channel.close", 1);
  assert.equal(close.args.replyCode, ReplyCode.PreconditionFailed);
  raw.destroy();
});

/** amqplib has no tx API on its promise channel; its lower-level rpc does the job. */
function rpc(c: amqp.Channel, method: string): Promise<unknown> {
  const ids: Record<string, [number, number]> = {
    select: [5898250, 5898251],
    commit: [5898260, 5898261],
    rollback: [5898270, 5898271],
  };
  const [req, ok] = ids[method]!;
  const inner = c as unknown as { rpc(id: number, fields: object, expect: number): Promise<unknown> };
  return inner.rpc(req, {}, ok);
}

test("tx: publishes and acks take effect at commit; rollback drops them", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const t = await conn.createChannel();
  await rpc(t, "select");
  t.sendToQueue(queue, Buffer.from("in-tx"));
  await sleep(50);
  assert.equal((await ch.checkQueue(queue)).messageCount, 0);
  await rpc(t, "commit");
  assert.equal((await ch.checkQueue(queue)).messageCount, 1);
  t.sendToQueue(queue, Buffer.from("rolled-back"));
  await rpc(t, "rollback");
  assert.equal((await ch.checkQueue(queue)).messageCount, 1);
  // An ack in a transaction settles at commit.
  const [m] = await take(t, queue, 1);
  t.ack(m!);
  await rpc(t, "rollback");
  t.ack(m!);
  await rpc(t, "commit");
  await t.close();
  assert.equal((await ch.checkQueue(queue)).messageCount, 0);
});

test("tx.commit without tx.select: 406", { timeout: 10_000 }, async () => {
  const t = await conn.createChannel();
  t.on("error", () => {});
  await expectCode(rpc(t, "commit"), ReplyCode.PreconditionFailed);
});

test("direct reply-to: RPC without a reply queue", { timeout: 10_000 }, async () => {
  const server = await open(b.amqpUrl);
  const { queue: rpcQueue } = await server.ch.assertQueue("rpc-add", { exclusive: true });
  await server.ch.consume(rpcQueue, (m) => {
    if (!m) return;
    const { a, b: bb } = JSON.parse(m.content.toString()) as { a: number; b: number };
    assert.match(m.properties.replyTo, /^amq\.rabbitmq\.reply-to\.[\w-]+$/);
    server.ch.sendToQueue(m.properties.replyTo, Buffer.from(String(a + bb)), {
      correlationId: m.properties.correlationId,
    });
    server.ch.ack(m);
  });
  const client = await open(b.amqpUrl);
  const replies: Msg[] = [];
  await client.ch.consume("amq.rabbitmq.reply-to", (m) => m && replies.push(m), { noAck: true });
  for (let i = 0; i < 3; i++) {
    client.ch.sendToQueue(rpcQueue, Buffer.from(JSON.stringify({ a: i, b: 10 })), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: `c${i}`,
    });
  }
  await until(() => replies.length === 3);
  assert.deepEqual(
    replies.map((m) => [m.properties.correlationId, m.content.toString()]),
    [
      ["c0", "10"],
      ["c1", "11"],
      ["c2", "12"],
    ],
  );
  await client.conn.close();
  await server.conn.close();
});

test("direct reply-to: publishing with it and no reply consumer is 406; consuming with acks is 406", {
  timeout: 10_000,
}, async () => {
  const c = await open(b.amqpUrl);
  const err = new Promise<Error & { code?: number }>((resolve) => c.ch.once("error", resolve));
  c.ch.sendToQueue("somewhere", Buffer.from("x"), { replyTo: "amq.rabbitmq.reply-to" });
  assert.equal((await err).code, ReplyCode.PreconditionFailed);
  const c2 = await conn.createChannel();
  c2.on("error", () => {});
  await expectCode(
    c2.consume("amq.rabbitmq.reply-to", () => {}, { noAck: false }),
    ReplyCode.PreconditionFailed,
  );
  await c.conn.close();
});
