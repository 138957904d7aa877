/** Exchanges with amqplib (amqp0-9-1.xml class exchange; RabbitMQ's behaviour where the spec is silent). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type amqp from "amqplib";
import { ReplyCode } from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type Conn, expectCode, open, take } from "./amqp-client.js";

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

/** An exclusive server-named queue bound to `exchange` with each key (or headers args). */
async function boundQueue(exchange: string, keys: string[], args?: Record<string, unknown>): Promise<string> {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  for (const k of keys) await ch.bindQueue(queue, exchange, k, args);
  return queue;
}

async function drain(queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

test("default exchange routes by queue name; binding to it is refused (403)", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  ch.publish("", queue, Buffer.from("d1"));
  assert.deepEqual(await drainSoon(queue, 1), ["d1"]);
  const other = await conn.createChannel();
  other.on("error", () => {});
  await expectCode(other.bindQueue(queue, "", "x"), ReplyCode.AccessRefused);
});

async function drainSoon(queue: string, n: number): Promise<string[]> {
  const got = await take(ch, queue, n, { noAck: true });
  await ch.cancel(got[0]!.fields.consumerTag);
  return got.map((m) => m.content.toString());
}

test("direct: exact routing key; amq.direct is predeclared", { timeout: 10_000 }, async () => {
  const q1 = await boundQueue("amq.direct", ["red"]);
  const q2 = await boundQueue("amq.direct", ["green", "red"]);
  ch.publish("amq.direct", "red", Buffer.from("r"));
  ch.publish("amq.direct", "green", Buffer.from("g"));
  ch.publish("amq.direct", "blue", Buffer.from("b"));
  await ch.checkQueue(q1);
  assert.deepEqual(await drain(q1), ["r"]);
  assert.deepEqual(await drain(q2), ["r", "g"]);
});

test("fanout: every bound queue, whatever the key", { timeout: 10_000 }, async () => {
  await ch.assertExchange("fan", "fanout", { durable: false });
  const q1 = await boundQueue("fan", [""]);
  const q2 = await boundQueue("fan", ["ignored"]);
  ch.publish("fan", "any.key", Buffer.from("f"));
  await ch.checkQueue(q1);
  assert.deepEqual(await drain(q1), ["f"]);
  assert.deepEqual(await drain(q2), ["f"]);
});

test("topic (declared exchange): * one word, # zero or more anywhere", { timeout: 10_000 }, async () => {
  await ch.assertExchange("logs", "topic", { durable: false });
  const star = await boundQueue("logs", ["kern.*"]);
  const mid = await boundQueue("logs", ["a.#.z"]);
  const all = await boundQueue("logs", ["#"]);
  for (const k of ["kern.info", "kern.info.x", "a.z", "a.b.c.z", "b.z"])
    ch.publish("logs", k, Buffer.from(k));
  await ch.checkQueue(star);
  assert.deepEqual(await drain(star), ["kern.info"]);
  assert.deepEqual(await drain(mid), ["a.z", "a.b.c.z"]);
  assert.equal((await drain(all)).length, 5);
});

test("headers: x-match all / any on amq.headers and amq.match", { timeout: 10_000 }, async () => {
  const allQ = await boundQueue("amq.headers", [""], { "x-match": "all", type: "report", format: "pdf" });
  const anyQ = await boundQueue("amq.match", [""], { "x-match": "any", type: "report", format: "pdf" });
  ch.publish("amq.headers", "", Buffer.from("both"), { headers: { type: "report", format: "pdf" } });
  ch.publish("amq.headers", "", Buffer.from("one"), { headers: { type: "report", format: "zip" } });
  ch.publish("amq.match", "", Buffer.from("m-one"), { headers: { format: "pdf" } });
  ch.publish("amq.match", "", Buffer.from("m-none"), { headers: { other: 1 } });
  await ch.checkQueue(allQ);
  assert.deepEqual(await drain(allQ), ["both"]);
  assert.deepEqual(await drain(anyQ), ["m-one"]);
});

test("declare: passive (404), equivalence (406), reserved amq. prefix (403), unknown type (503)", {
  timeout: 10_000,
}, async () => {
  await ch.assertExchange("amq.topic", "topic", { durable: true }); // redeclaring a predeclared one as it is
  await ch.assertExchange("eq", "direct", { durable: false });
  const c2 = await open(b.amqpUrl);
  await expectCode(c2.ch.checkExchange("nope"), ReplyCode.NotFound);
  const c3 = await open(b.amqpUrl);
  await expectCode(c3.ch.assertExchange("eq", "fanout", { durable: false }), ReplyCode.PreconditionFailed);
  const c4 = await open(b.amqpUrl);
  await expectCode(c4.ch.assertExchange("amq.mine", "direct"), ReplyCode.AccessRefused);
  // An unknown exchange type is a connection error in RabbitMQ.
  const c5 = await open(b.amqpUrl);
  const connErr = new Promise<Error & { code?: number }>((resolve) => c5.conn.once("error", resolve));
  c5.ch.assertExchange("weird", "x-unknown").catch(() => {});
  assert.equal((await connErr).code, ReplyCode.CommandInvalid);
  for (const c of [c2, c3, c4]) await c.conn.close();
});

test("delete: if-unused refuses an exchange with bindings (406); predeclared ones are protected (403)", {
  timeout: 10_000,
}, async () => {
  await ch.assertExchange("del", "direct", { durable: false });
  const q = await boundQueue("del", ["k"]);
  const c2 = await open(b.amqpUrl);
  await expectCode(c2.ch.deleteExchange("del", { ifUnused: true }), ReplyCode.PreconditionFailed);
  const c3 = await open(b.amqpUrl);
  await expectCode(c3.ch.deleteExchange("amq.direct"), ReplyCode.AccessRefused);
  await ch.deleteExchange("del");
  await expectCode(
    open(b.amqpUrl).then((c) => c.ch.checkExchange("del")),
    ReplyCode.NotFound,
  );
  ch.publish("amq.direct", q, Buffer.from("x")); // the queue itself is still there
  await c2.conn.close();
  await c3.conn.close();
});

test("internal exchanges refuse publishes (403); exchange-to-exchange bindings route through", {
  timeout: 10_000,
}, async () => {
  await ch.assertExchange("front", "topic", { durable: false });
  await ch.assertExchange("inner", "fanout", { durable: false, internal: true });
  await ch.bindExchange("inner", "front", "orders.#");
  const q = await boundQueue("inner", [""]);
  ch.publish("front", "orders.new", Buffer.from("o1"));
  ch.publish("front", "other", Buffer.from("o2"));
  await ch.checkQueue(q);
  assert.deepEqual(await drain(q), ["o1"]);
  await ch.unbindExchange("inner", "front", "orders.#");
  ch.publish("front", "orders.new", Buffer.from("o3"));
  await ch.checkQueue(q);
  assert.deepEqual(await drain(q), []);
  const c2 = await open(b.amqpUrl);
  const closed = new Promise<Error & { code?: number }>((resolve) => c2.ch.once("error", resolve));
  c2.ch.publish("inner", "", Buffer.from("no"));
  assert.equal((await closed).code, ReplyCode.AccessRefused);
  await c2.conn.close();
});

test("auto-delete exchange goes with its last binding", { timeout: 10_000 }, async () => {
  await ch.assertExchange("ephemeral", "direct", { durable: false, autoDelete: true });
  const q = await boundQueue("ephemeral", ["k"]);
  await ch.unbindQueue(q, "ephemeral", "k");
  await expectCode(
    open(b.amqpUrl).then((c) => c.ch.checkExchange("ephemeral")),
    ReplyCode.NotFound,
  );
});

test("publishing to a missing exchange closes the channel with 404", { timeout: 10_000 }, async () => {
  const c2 = await open(b.amqpUrl);
  const closed = new Promise<Error & { code?: number }>((resolve) => c2.ch.once("error", resolve));
  c2.ch.publish("missing-exchange", "k", Buffer.from("x"));
  assert.equal((await closed).code, ReplyCode.NotFound);
  await c2.conn.close();
});
