/** The basic class with amqplib: consume, deliver, get, acks, qos, cancel, mandatory, recover, properties. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type amqp from "amqplib";
import { ReplyCode } from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type Conn, expectCode, type Msg, open, sleep, take, until } from "./amqp-client.js";

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

async function channel(): Promise<amqp.Channel> {
  const c = await conn.createChannel();
  c.on("error", () => {});
  return c;
}

async function queueWith(...bodies: string[]): Promise<string> {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  for (const s of bodies) ch.sendToQueue(queue, Buffer.from(s));
  await until(async () => (await ch.checkQueue(queue)).messageCount === bodies.length);
  return queue;
}

test("every content property is carried from publisher to consumer", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const props: amqp.Options.Publish = {
    contentType: "application/json",
    contentEncoding: "gzip",
    headers: { n: 42, s: "text", b: true, nested: { x: 1 }, list: [1, "two"], big: 2 ** 40 },
    deliveryMode: 2,
    priority: 7,
    correlationId: "corr-1",
    replyTo: "replies",
    expiration: "60000",
    messageId: "msg-1",
    timestamp: 1_700_000_000,
    type: "order.created",
    userId: "guest",
    appId: "tests",
  };
  ch.sendToQueue(queue, Buffer.from("{}"), props);
  const [m] = await take(ch, queue, 1, { noAck: true });
  const p = m!.properties;
  assert.equal(p.contentType, "application/json");
  assert.equal(p.contentEncoding, "gzip");
  assert.deepEqual(p.headers, props.headers);
  assert.equal(p.deliveryMode, 2);
  assert.equal(p.priority, 7);
  assert.equal(p.correlationId, "corr-1");
  assert.equal(p.replyTo, "replies");
  assert.equal(p.expiration, "60000");
  assert.equal(p.messageId, "msg-1");
  assert.equal(p.timestamp, 1_700_000_000);
  assert.equal(p.type, "order.created");
  assert.equal(p.userId, "guest");
  assert.equal(p.appId, "tests");
});

test("a user-id other than the authenticated user: 406", { timeout: 10_000 }, async () => {
  const c = await channel();
  const err = new Promise<Error & { code?: number }>((resolve) => c.once("error", resolve));
  c.sendToQueue("anything", Buffer.from("x"), { userId: "someone-else" });
  assert.equal((await err).code, ReplyCode.PreconditionFailed);
});

test("an invalid expiration: 406", { timeout: 10_000 }, async () => {
  const c = await channel();
  const err = new Promise<Error & { code?: number }>((resolve) => c.once("error", resolve));
  c.sendToQueue("anything", Buffer.from("x"), { expiration: "soon" });
  assert.equal((await err).code, ReplyCode.PreconditionFailed);
});

test("large bodies are split into frame-max body frames and joined again", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  ch.sendToQueue(queue, big);
  const [m] = await take(ch, queue, 1, { noAck: true });
  assert.ok(m!.content.equals(big));
});

test("get / get-empty; message-count is what is left", { timeout: 10_000 }, async () => {
  const queue = await queueWith("g1", "g2");
  const first = await ch.get(queue, { noAck: true });
  assert.ok(first);
  assert.equal(first.content.toString(), "g1");
  assert.equal(first.fields.messageCount, 1);
  const second = await ch.get(queue, { noAck: false });
  assert.ok(second);
  ch.ack(second);
  assert.equal(await ch.get(queue), false);
});

test("ack multiple, nack requeue (redelivered flag), reject without requeue drops", {
  timeout: 10_000,
}, async () => {
  const queue = await queueWith("a", "b", "c", "d");
  const c = await channel();
  const got: Msg[] = [];
  await c.consume(queue, (m) => m && got.push(m));
  await until(() => got.length === 4);
  c.ack(got[1]!, true); // a, b
  c.nack(got[2]!, false, true); // c back to the queue, redelivered
  await until(() => got.length === 5);
  assert.equal(got[4]!.content.toString(), "c");
  assert.equal(got[4]!.fields.redelivered, true);
  assert.equal(got[0]!.fields.redelivered, false);
  c.reject(got[3]!, false); // d dropped
  c.ack(got[4]!);
  await c.close();
  assert.equal((await ch.checkQueue(queue)).messageCount, 0);
});

test("nack multiple requeues everything up to the tag, in order", { timeout: 10_000 }, async () => {
  const queue = await queueWith("1", "2", "3");
  const c = await channel();
  const got: Msg[] = [];
  const { consumerTag } = await c.consume(queue, (m) => m && got.push(m));
  await until(() => got.length === 3);
  await c.cancel(consumerTag);
  c.nack(got[2]!, true, true);
  await until(async () => (await ch.checkQueue(queue)).messageCount === 3);
  const again = await take(c, queue, 3, { noAck: true });
  assert.deepEqual(
    again.map((m) => [m.content.toString(), m.fields.redelivered]),
    [
      ["1", true],
      ["2", true],
      ["3", true],
    ],
  );
});

test("acking an unknown delivery tag: 406 PRECONDITION_FAILED", { timeout: 10_000 }, async () => {
  const c = await channel();
  const err = new Promise<Error & { code?: number }>((resolve) => c.once("error", resolve));
  c.ack({ fields: { deliveryTag: 999 } } as Msg);
  assert.equal((await err).code, ReplyCode.PreconditionFailed);
});

test("unacked messages are requeued when the channel closes", { timeout: 10_000 }, async () => {
  const queue = await queueWith("held");
  const c = await channel();
  await take(c, queue, 1);
  await c.close();
  const m = await ch.get(queue, { noAck: true });
  assert.ok(m);
  assert.equal(m.fields.redelivered, true);
});

test("basic.recover requeues what the channel holds", { timeout: 10_000 }, async () => {
  const queue = await queueWith("r1");
  const c = await channel();
  const got: Msg[] = [];
  await c.consume(queue, (m) => m && got.push(m));
  await until(() => got.length === 1);
  await c.recover();
  await until(() => got.length === 2);
  assert.equal(got[1]!.fields.redelivered, true);
  c.ack(got[1]!);
});

test("prefetch per consumer: at most N unacked each", { timeout: 10_000 }, async () => {
  const queue = await queueWith(...Array.from({ length: 10 }, (_, i) => String(i)));
  const c = await channel();
  await c.prefetch(3);
  const got: Msg[] = [];
  await c.consume(queue, (m) => m && got.push(m));
  await until(() => got.length === 3);
  await sleep(50);
  assert.equal(got.length, 3);
  c.ack(got[0]!);
  await until(() => got.length === 4);
  await sleep(50);
  assert.equal(got.length, 4);
  await c.close();
});

test("prefetch global: the limit is shared by the channel's consumers", { timeout: 10_000 }, async () => {
  const q1 = await queueWith("a1", "a2", "a3");
  const q2 = await queueWith("b1", "b2", "b3");
  const c = await channel();
  await c.prefetch(2, true);
  const got: Msg[] = [];
  await c.consume(q1, (m) => m && got.push(m));
  await c.consume(q2, (m) => m && got.push(m));
  await until(() => got.length === 2);
  await sleep(50);
  assert.equal(got.length, 2);
  c.ack(got[0]!);
  await until(() => got.length === 3);
  await sleep(50);
  assert.equal(got.length, 3);
  await c.close();
});

test("competing consumers share a queue round-robin", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const c1 = await channel();
  const c2 = await channel();
  const got1: string[] = [];
  const got2: string[] = [];
  await c1.consume(queue, (m) => m && got1.push(m.content.toString()), { noAck: true });
  await c2.consume(queue, (m) => m && got2.push(m.content.toString()), { noAck: true });
  for (let i = 0; i < 6; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
  await until(() => got1.length + got2.length === 6);
  assert.equal(got1.length, 3);
  assert.equal(got2.length, 3);
});

test("exclusive consumer: a second consumer is refused (403), and vice versa", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  const c1 = await channel();
  await c1.consume(queue, () => {}, { exclusive: true });
  await expectCode(
    (await channel()).consume(queue, () => {}),
    ReplyCode.AccessRefused,
  );
  const { queue: q2 } = await ch.assertQueue("", { exclusive: true });
  await c1.consume(q2, () => {});
  await expectCode(
    (await channel()).consume(q2, () => {}, { exclusive: true }),
    ReplyCode.AccessRefused,
  );
});

test("consumer tags: ours if given; reusing one on a channel is a connection error (530)", {
  timeout: 10_000,
}, async () => {
  const other = await open(b.amqpUrl);
  const shared = (await other.ch.assertQueue("tag-q")).queue;
  const ok = await other.ch.consume(shared, () => {}, { consumerTag: "my-tag" });
  assert.equal(ok.consumerTag, "my-tag");
  const closed = new Promise<Error & { code?: number }>((resolve) => other.conn.once("error", resolve));
  other.ch.consume(shared, () => {}, { consumerTag: "my-tag" }).catch(() => {});
  assert.equal((await closed).code, ReplyCode.NotAllowed);
  await ch.deleteQueue(shared);
});

test("cancel stops deliveries; deleting the queue cancels consumers from the server", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("cancel-q");
  const c = await channel();
  const got: Array<Msg | null> = [];
  const { consumerTag } = await c.consume(queue, (m) => got.push(m), { noAck: true });
  ch.sendToQueue(queue, Buffer.from("1"));
  await until(() => got.length === 1);
  await c.cancel(consumerTag);
  ch.sendToQueue(queue, Buffer.from("2"));
  await sleep(50);
  assert.equal(got.length, 1);
  const server: Array<Msg | null> = [];
  await c.consume(queue, (m) => server.push(m), { noAck: true });
  await until(() => server.length === 1); // "2"
  await ch.deleteQueue(queue);
  // amqplib calls the consumer with null when the server cancels it (consumer_cancel_notify).
  await until(() => server.length === 2);
  assert.equal(server[1], null);
});

test("mandatory: unroutable messages come back as basic.return 312 NO_ROUTE", {
  timeout: 10_000,
}, async () => {
  const returned = new Promise<Msg>((resolve) => ch.once("return", resolve));
  ch.publish("amq.direct", "nobody-listens", Buffer.from("lost"), { mandatory: true, messageId: "ret-1" });
  const r = await returned;
  assert.equal(r.content.toString(), "lost");
  assert.equal(r.properties.messageId, "ret-1");
  const fields = r.fields as unknown as {
    replyCode: number;
    replyText: string;
    exchange: string;
    routingKey: string;
  };
  assert.equal(fields.replyCode, 312);
  assert.equal(fields.replyText, "NO_ROUTE");
  assert.equal(fields.exchange, "amq.direct");
  assert.equal(fields.routingKey, "nobody-listens");
});

test("channel.flow pauses and resumes deliveries", { timeout: 10_000 }, async () => {
  // amqplib has no flow() on channels: drive it with the raw client.
  const { RawAmqp } = await import("./raw-client.js");
  const raw = await RawAmqp.ready(b.amqpPort);
  const { queue } = await ch.assertQueue("flow-q");
  raw.method(1, "basic.consume", { queue, consumerTag: "f", noAck: true });
  await raw.waitFor("basic.consume-ok", 1);
  raw.method(1, "channel.flow", { active: false });
  assert.equal((await raw.waitFor("channel.flow-ok", 1)).args.active, false);
  ch.sendToQueue(queue, Buffer.from("held"));
  await sleep(100);
  assert.equal(raw.methods.filter((m) => m.name === "basic.deliver").length, 0);
  raw.method(1, "channel.flow", { active: true });
  await raw.waitFor("basic.deliver", 1);
  raw.destroy();
  await ch.deleteQueue(queue);
});
