/**
 * Bad input (issue: malformed frames and encodings, transfers beyond credit, unknown handles,
 * performatives out of order): the right AMQP error condition, at the right scope, others unaffected.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Writer } from "../../../src/protocols/amqp10/codec/encoder.js";
import { AMQP_HEADER, type Frame, P, SASL_HEADER } from "../../../src/protocols/amqp10/codec/frames.js";
import {
  type AmqpValue,
  bin,
  bool,
  described,
  list,
  NULL,
  str,
  sym,
  uint,
} from "../../../src/protocols/amqp10/codec/types.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { closeConn, connect, receiver, send, sender } from "./client.js";
import { conditionOf, RawAmqp10 } from "./raw-client.js";

let b: TestBroker;
before(async () => {
  b = await startTestBroker({ config: (c) => (c.amqp.heartbeat = 1) });
});
after(async () => {
  await b.close();
});

const is = (code: number) => (f: Frame) => f.code === code;

async function opened(): Promise<RawAmqp10> {
  const c = await RawAmqp10.connect(b.amqpPort);
  c.write(AMQP_HEADER);
  c.frame(0, P.open, [str("raw")]);
  await c.next(is(P.open));
  return c;
}

function begin(c: RawAmqp10, ch: number): Promise<Frame> {
  c.frame(ch, P.begin, [NULL, uint(0), uint(100), uint(100)]);
  return c.next((f) => f.code === P.begin && f.channel === ch);
}

function attachSender(c: RawAmqp10, ch: number, handle: number, address: string): void {
  c.frame(ch, P.attach, [
    str(`l${handle}`),
    uint(handle),
    bool(false),
    NULL,
    NULL,
    described(P.source, list([])),
    described(P.target, list([str(address)])),
  ]);
}

function message(text: string): Buffer {
  const w = new Writer();
  w.value(described(P.amqpValue, str(text)));
  return w.result();
}

async function expectClose(c: RawAmqp10, condition: string): Promise<void> {
  const f = await c.next(is(P.close));
  assert.equal(conditionOf(f.fields[0]), condition);
  c.frame(0, P.close, []);
  await c.waitClosed();
}

test("a malformed performative closes the connection with amqp:decode-error", {
  timeout: 10_000,
}, async () => {
  const c = await opened();
  // begin whose list claims 5 elements but holds 1
  c.write([0, 0, 0, 0x10, 2, 0, 0, 0, 0x00, 0x53, 0x11, 0xc0, 0x02, 0x05, 0x40, 0x40]);
  await expectClose(c, "amqp:decode-error");
});

test("a frame larger than max-frame-size is amqp:connection:framing-error", { timeout: 10_000 }, async () => {
  const c = await opened();
  const big = Buffer.alloc(8);
  big.writeUInt32BE(10_000_000, 0);
  big[4] = 2;
  c.write(big);
  await expectClose(c, "amqp:connection:framing-error");
});

test("a performative before open is amqp:not-allowed", { timeout: 10_000 }, async () => {
  const c = await RawAmqp10.connect(b.amqpPort);
  c.write(AMQP_HEADER);
  c.frame(0, P.begin, [NULL, uint(0), uint(100), uint(100)]);
  await expectClose(c, "amqp:not-allowed");
});

test("an unknown protocol header gets the broker's header back and the socket closes", {
  timeout: 10_000,
}, async () => {
  const c = await RawAmqp10.connect(b.amqpPort);
  c.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x02, 0x01, 0x00, 0x00]));
  await c.waitClosed();
  assert.equal(c.headers[0]?.subarray(0, 4).toString(), "AMQP");
});

test("a transfer on an unknown handle ends that session with amqp:session:unattached-handle; another session goes on", {
  timeout: 10_000,
}, async () => {
  const c = await opened();
  await begin(c, 0);
  await begin(c, 1);
  c.frame(1, P.transfer, [uint(9), uint(0), bin(Buffer.from([1])), uint(0)], message("x"));
  const end = await c.next((f) => f.code === P.end && f.channel === 1);
  assert.equal(conditionOf(end.fields[0]), "amqp:session:unattached-handle");
  c.frame(1, P.end, []);
  // Channel 0 still works.
  attachSender(c, 0, 0, "/queue/bad-input-ok");
  await c.next((f) => f.code === P.attach && f.channel === 0);
  const flow = await c.next((f) => f.code === P.flow && f.channel === 0);
  assert.ok((flow.fields[6] as { value: number }).value > 0, "credit granted");
  c.frame(0, P.close, []);
  await c.next(is(P.close));
  c.end();
});

test("a transfer beyond link credit detaches the link with amqp:link:transfer-limit-exceeded", {
  timeout: 10_000,
}, async () => {
  const b2 = await startTestBroker();
  const c = await RawAmqp10.connect(b2.amqpPort);
  try {
    c.write(AMQP_HEADER);
    c.frame(0, P.open, [str("raw")]);
    await c.next(is(P.open));
    c.frame(0, P.begin, [NULL, uint(0), uint(10_000), uint(10_000)]);
    await c.next(is(P.begin));
    attachSender(c, 0, 0, "/queue/limit");
    await c.next(is(P.attach));
    const flow = await c.next(is(P.flow));
    const credit = (flow.fields[6] as { value: number }).value;
    for (let i = 0; i <= credit; i++)
      c.frame(
        0,
        P.transfer,
        [uint(0), uint(i), bin(Buffer.from([i & 0xff])), uint(0), bool(true)],
        message(`m${i}`),
      );
    const detach = await c.next(is(P.detach));
    assert.equal(conditionOf(detach.fields[2]), "amqp:link:transfer-limit-exceeded");
    assert.equal(
      b2.handle.router.queues.find("limit")!.messageCount,
      credit,
      "exactly the credited messages",
    );
  } finally {
    c.end();
    await b2.close();
  }
});

test("attaching a handle twice ends the session with amqp:session:handle-in-use", {
  timeout: 10_000,
}, async () => {
  const c = await opened();
  await begin(c, 0);
  attachSender(c, 0, 0, "/queue/h");
  await c.next(is(P.attach));
  attachSender(c, 0, 0, "/queue/h");
  const end = await c.next(is(P.end));
  assert.equal(conditionOf(end.fields[0]), "amqp:session:handle-in-use");
  c.end();
});

test("begin on a channel in use and open twice are amqp:not-allowed", { timeout: 10_000 }, async () => {
  const c = await opened();
  await begin(c, 3);
  c.frame(3, P.begin, [NULL, uint(0), uint(100), uint(100)]);
  await expectClose(c, "amqp:not-allowed");
  const c2 = await opened();
  c2.frame(0, P.open, [str("again")]);
  await expectClose(c2, "amqp:not-allowed");
});

test("max-frame-size below 512 is amqp:frame-size-too-small", { timeout: 10_000 }, async () => {
  const c = await RawAmqp10.connect(b.amqpPort);
  c.write(AMQP_HEADER);
  c.frame(0, P.open, [str("raw"), NULL, uint(100)]);
  await expectClose(c, "amqp:frame-size-too-small");
});

test("a malformed message is rejected with amqp:decode-error; the link goes on", {
  timeout: 10_000,
}, async () => {
  const c = await opened();
  await begin(c, 0);
  attachSender(c, 0, 0, "/queue/malformed");
  await c.next(is(P.attach));
  await c.next(is(P.flow));
  c.frame(
    0,
    P.transfer,
    [uint(0), uint(0), bin(Buffer.from([0])), uint(0)],
    Buffer.from([0x00, 0x53, 0x77, 0xa1, 0x09]),
  );
  const d = await c.next(is(P.disposition));
  const state = d.fields[4] as AmqpValue & { type: "described" };
  assert.equal((state.descriptor as { value: bigint }).value, BigInt(P.rejected));
  assert.equal(conditionOf((state.value as { value: AmqpValue[] }).value[0]), "amqp:decode-error");
  c.frame(0, P.transfer, [uint(0), uint(1), bin(Buffer.from([1])), uint(0)], message("fine"));
  const ok = await c.next(is(P.disposition));
  assert.equal((ok.fields[4] as { descriptor: { value: bigint } }).descriptor.value, BigInt(P.accepted));
  c.end();
});

test("idle timeout: a silent client is closed with amqp:resource-limit-exceeded (part 2 §2.4.5)", {
  timeout: 10_000,
}, async () => {
  const c = await opened();
  const f = await c.next(is(P.close), 5000);
  assert.equal(conditionOf(f.fields[0]), "amqp:resource-limit-exceeded");
  c.end();
});

test("idle timeout: the broker keeps a quiet connection alive with empty frames", {
  timeout: 10_000,
}, async () => {
  const c = await RawAmqp10.connect(b.amqpPort);
  c.write(AMQP_HEADER);
  c.frame(0, P.open, [str("raw"), NULL, NULL, NULL, uint(400)]);
  await c.next(is(P.open));
  const t = setInterval(() => c.write([0, 0, 0, 8, 2, 0, 0, 0]), 200);
  try {
    await c.next((fr) => fr.code === undefined, 3000);
  } finally {
    clearInterval(t);
    c.end();
  }
});

test("a whole session split at every byte boundary works the same", { timeout: 20_000 }, async () => {
  const w: Buffer[] = [AMQP_HEADER];
  const { encodeFrame } = await import("../../../src/protocols/amqp10/codec/frames.js");
  w.push(encodeFrame(0, 0, P.open, [str("split")]));
  w.push(encodeFrame(0, 0, P.begin, [NULL, uint(0), uint(100), uint(100)]));
  w.push(
    encodeFrame(0, 0, P.attach, [
      str("s"),
      uint(0),
      bool(false),
      NULL,
      NULL,
      described(P.source, list([])),
      described(P.target, list([str("/queue/split")])),
    ]),
  );
  const all = Buffer.concat(w);
  const c = await RawAmqp10.connect(b.amqpPort);
  try {
    for (let i = 0; i < all.length; i++) {
      c.write(all.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    await c.next(is(P.attach));
    await c.next(is(P.flow));
  } finally {
    c.end();
  }
});

test("SASL: PLAIN with a wrong password gets sasl-outcome auth (1); ANONYMOUS where not allowed too", {
  timeout: 10_000,
}, async () => {
  const auth = {
    async authenticate(cr: { username?: string; password?: Buffer; clientId: string; protocol: string }) {
      if (cr.username === "u" && cr.password?.toString() === "p") {
        return {
          ok: true as const,
          principal: { username: "u", clientId: cr.clientId, protocol: cr.protocol, anonymous: false },
        };
      }
      return { ok: false as const, reason: "bad-credentials" as const };
    },
    authorize: () => true,
  };
  const b2 = await startTestBroker({ auth });
  try {
    const good = await connect(b2.amqpPort, { username: "u", password: "p" });
    const s = await sender(good, "/queue/sasl");
    assert.equal((await send(s, { body: "ok" })).outcome, "accepted");
    await closeConn(good);
    await assert.rejects(connect(b2.amqpPort, { username: "u", password: "wrong" }));
    const raw = await RawAmqp10.connect(b2.amqpPort);
    raw.write(SASL_HEADER);
    const mechs = await raw.next((f) => f.code === P.saslMechanisms);
    assert.deepEqual(
      (mechs.fields[0] as { value: Array<{ value: string }> }).value.map((v) => v.value),
      ["PLAIN", "ANONYMOUS"],
    );
    raw.frame(0, P.saslInit, [sym("ANONYMOUS")], undefined, 1);
    const outcome = await raw.next((f) => f.code === P.saslOutcome);
    assert.equal((outcome.fields[0] as { value: number }).value, 1);
    await raw.waitClosed();
    // Without SASL the client is anonymous: refused at open with amqp:unauthorized-access.
    const plain = await RawAmqp10.connect(b2.amqpPort);
    plain.write(AMQP_HEADER);
    plain.frame(0, P.open, [str("anon")]);
    await plain.next(is(P.open));
    const close = await plain.next(is(P.close));
    assert.equal(conditionOf(close.fields[0]), "amqp:unauthorized-access");
    plain.end();
  } finally {
    await b2.close();
  }
});

test("without SASL (plain AMQP header) an anonymous client works where the Auth allows it", {
  timeout: 10_000,
}, async () => {
  const c = await connect(b.amqpPort, { noSasl: true });
  try {
    const inbox = await receiver(c, "/queue/nosasl");
    const s = await sender(c, "/queue/nosasl");
    await send(s, { body: "plain" });
    const [m] = await inbox.take(1);
    assert.equal(m!.message.body, "plain");
  } finally {
    await closeConn(c);
  }
});
