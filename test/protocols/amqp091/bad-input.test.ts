/**
 * Malformed and out-of-order input (amqp0-9-1 §2.3.7, §4.2.3 and the reply-code constants): one test
 * per reply code the spec names for it, each checking the right scope (connection or channel) is
 * closed and that other clients are unaffected.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqp from "amqplib";
import {
  encodeMethod,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  methodSpec,
  PROTOCOL_HEADER,
  ReplyCode,
  Writer,
} from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { RawAmqp } from "./raw-client.js";

let b: TestBroker;
before(async () => {
  b = await startTestBroker();
});
after(async () => {
  await b.close();
});

async function connectionClosedWith(c: RawAmqp, code: number): Promise<void> {
  const close = await c.waitFor("connection.close", 0);
  assert.equal(close.args.replyCode, code, close.args.replyText);
  c.method(0, "connection.close-ok");
  await c.waitClosed();
}

/** A second, well-behaved client keeps working while the other misbehaves. */
async function othersUnaffected(): Promise<void> {
  const conn = await amqp.connect(b.amqpUrl);
  const ch = await conn.createChannel();
  const q = await ch.assertQueue("", { exclusive: true });
  ch.sendToQueue(q.queue, Buffer.from("still fine"));
  const m = await new Promise<amqp.ConsumeMessage | null>((resolve) =>
    ch.consume(q.queue, resolve, { noAck: true }),
  );
  assert.equal(m?.content.toString(), "still fine");
  await conn.close();
}

test("unknown protocol header: our header back, then close (§4.2.2)", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.open(b.amqpPort);
  c.send(Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 10])); // AMQP 0-10: not spoken
  await c.waitClosed();
  assert.deepEqual(c.raw, PROTOCOL_HEADER);
});

test("not AMQP at all (an HTTP request): our header back, then close", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.open(b.amqpPort);
  c.send(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  await c.waitClosed();
  assert.deepEqual(c.raw, PROTOCOL_HEADER);
});

test("wrong frame-end octet: 501 FRAME_ERROR closes the connection", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.frame(FRAME_METHOD, 1, encodeMethod(1, "basic.qos", { prefetchCount: 1 }).subarray(7, -1), 0x00);
  await connectionClosedWith(c, ReplyCode.FrameError);
  await othersUnaffected();
});

test("frame larger than the negotiated frame-max: 501 FRAME_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort, { frameMax: 4096 });
  c.frame(FRAME_BODY, 1, Buffer.alloc(5000));
  await connectionClosedWith(c, ReplyCode.FrameError);
});

test("unknown class/method ids: 503 COMMAND_INVALID closes the connection", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  const w = new Writer();
  w.short(77);
  w.short(7);
  c.frame(FRAME_METHOD, 1, Buffer.from(w.result()));
  const close = await c.waitFor("connection.close", 0);
  assert.equal(close.args.replyCode, ReplyCode.CommandInvalid);
  assert.equal(close.args.classId, 77);
  assert.equal(close.args.methodId, 7);
  await othersUnaffected();
});

test("a server-only method from the client (basic.deliver): 503 COMMAND_INVALID", {
  timeout: 10_000,
}, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(1, "basic.get-empty");
  await connectionClosedWith(c, ReplyCode.CommandInvalid);
});

test("method on a channel that is not open: 504 CHANNEL_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(5, "queue.declare", { queue: "x" });
  await connectionClosedWith(c, ReplyCode.ChannelError);
});

test("method on a channel after it was closed: 504 CHANNEL_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(1, "channel.close", { replyCode: 200, replyText: "bye" });
  await c.waitFor("channel.close-ok", 1);
  c.method(1, "basic.qos", { prefetchCount: 1 });
  await connectionClosedWith(c, ReplyCode.ChannelError);
});

test("opening an open channel again: 504 CHANNEL_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(1, "channel.open");
  await connectionClosedWith(c, ReplyCode.ChannelError);
});

test("content body without a header: 505 UNEXPECTED_FRAME", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(1, "basic.publish", { exchange: "", routingKey: "nowhere" });
  c.frame(FRAME_BODY, 1, Buffer.from("body before header"));
  await connectionClosedWith(c, ReplyCode.UnexpectedFrame);
});

test("content header without basic.publish: 505 UNEXPECTED_FRAME", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  const w = new Writer();
  w.short(60);
  w.short(0);
  w.longlong(0);
  w.short(0);
  c.frame(FRAME_HEADER, 1, Buffer.from(w.result()));
  await connectionClosedWith(c, ReplyCode.UnexpectedFrame);
});

test("a method where content was expected: 505 UNEXPECTED_FRAME", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(1, "basic.publish", { exchange: "", routingKey: "nowhere" });
  c.method(1, "basic.qos", { prefetchCount: 1 });
  await connectionClosedWith(c, ReplyCode.UnexpectedFrame);
});

test("a heartbeat on a non-zero channel: 501 FRAME_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.frame(8, 1, Buffer.alloc(0));
  await connectionClosedWith(c, ReplyCode.FrameError);
});

test("a truncated method payload: 501 FRAME_ERROR", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.frame(FRAME_METHOD, 1, encodeMethod(1, "queue.declare", { queue: "abc" }).subarray(7, 14));
  await connectionClosedWith(c, ReplyCode.FrameError);
});

test("a channel error closes only its channel (404 on passive declare)", { timeout: 10_000 }, async () => {
  const c = await RawAmqp.ready(b.amqpPort);
  c.method(2, "channel.open");
  await c.waitFor("channel.open-ok", 2);
  c.method(1, "queue.declare", { queue: "does-not-exist", passive: true });
  const close = await c.waitFor("channel.close", 1);
  assert.equal(close.args.replyCode, ReplyCode.NotFound);
  assert.equal(close.args.classId, 50);
  assert.equal(close.args.methodId, 10);
  // Until close-ok, the closed channel's frames are dropped; channel 2 keeps working.
  c.method(1, "basic.qos", { prefetchCount: 1 });
  c.method(1, "channel.close-ok");
  c.method(2, "queue.declare", { queue: "", exclusive: true });
  const ok = await c.waitFor("queue.declare-ok", 2);
  assert.match(ok.args.queue ?? "", /^amq\.gen-/);
  // The channel number is free again.
  c.method(1, "channel.open");
  await c.waitFor("channel.open-ok", 1);
  assert.equal(c.closed, false);
  c.destroy();
});

test("a message above maxMessageSize: 406 PRECONDITION_FAILED on the channel", {
  timeout: 10_000,
}, async () => {
  const small = await startTestBroker({
    config: (cfg) => {
      cfg.amqp.maxMessageSize = 10;
    },
  });
  try {
    const conn = await amqp.connect(small.amqpUrl);
    const ch = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => ch.on("error", resolve));
    ch.sendToQueue("q", Buffer.alloc(11));
    const err = (await closed) as Error & { code?: number };
    assert.equal(err.code, ReplyCode.PreconditionFailed);
    // The connection survives.
    const ch2 = await conn.createChannel();
    await ch2.assertQueue("", { exclusive: true });
    await conn.close();
  } finally {
    await small.close();
  }
});

test("random bytes after the header (and after the handshake) never harm the broker", {
  timeout: 60_000,
}, async () => {
  const { default: fc } = await import("fast-check");
  const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { numRuns: 60, seed: 4242 });
  for (const [i, bytes] of samples.entries()) {
    const c = i % 2 === 0 ? await RawAmqp.open(b.amqpPort) : await RawAmqp.ready(b.amqpPort);
    if (i % 2 === 0) c.send(PROTOCOL_HEADER);
    c.send(Buffer.from(bytes));
    await new Promise((r) => setTimeout(r, 5));
    c.destroy();
  }
  // Well-formed frames of real methods with random arguments: every decoder and handler path.
  const ids: Array<[number, number]> = [];
  for (let cls = 10; cls <= 90; cls++)
    for (let m = 10; m <= 120; m++) if (methodSpec(cls, m)) ids.push([cls, m]);
  const payloads = fc.sample(fc.tuple(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 64 })), {
    numRuns: 200,
    seed: 7,
  });
  for (const [[cls, m], args] of payloads) {
    const c = await RawAmqp.ready(b.amqpPort);
    const buf = Buffer.alloc(4 + args.length);
    buf.writeUInt16BE(cls, 0);
    buf.writeUInt16BE(m, 2);
    Buffer.from(args).copy(buf, 4);
    c.frame(FRAME_METHOD, cls === 10 ? 0 : 1, buf);
    await new Promise((r) => setTimeout(r, 5));
    c.destroy();
  }
  await othersUnaffected();
});
