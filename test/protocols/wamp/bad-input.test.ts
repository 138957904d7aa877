/**
 * Protocol violations (WAMP §7.1.1, §14.5.3): each ends the offending session with ABORT
 * wamp.error.protocol_violation (or the specific error for a request), closes its transport, and
 * leaves the router serving everyone else.
 */
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { RawWamp } from "../../helpers/wamp.js";

const MAX = 4096;

async function expectAbort(c: RawWamp, reason = "wamp.error.protocol_violation"): Promise<void> {
  const m = await c.next();
  assert.equal(m[0], 3, `expected ABORT, got ${JSON.stringify(m)}`);
  assert.equal(m[2], reason);
  await c.closedPromise;
}

async function assertStillServing(b: TestBroker): Promise<void> {
  const c = await RawWamp.ws(b);
  await c.hello();
  c.send([48, 1, {}, "wamp.session.count"]);
  const r = await c.next();
  assert.equal(r[0], 50);
  c.close();
}

describe("WAMP bad input", () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker({ config: (cfg) => (cfg.wamp.maxMessageSize = MAX) });
  });
  after(() => b.close());

  const beforeHello: Array<[string, unknown[]]> = [
    ["unknown message type", [99, 1]],
    ["a message before HELLO", [32, 1, {}, "com.topic"]],
    ["HELLO with a realm that is not a string", [1, 42, { roles: { caller: {} } }]],
    ["HELLO without Details", [1, "realm1"]],
    ["HELLO announcing no role", [1, "realm1", { roles: {} }]],
    ["an empty list", []],
    ["a dict instead of a list", { 0: 1 } as unknown as unknown[]],
  ];
  for (const [name, msg] of beforeHello) {
    for (const transport of ["ws", "raw"] as const) {
      test(`before HELLO, ${name} (${transport}): ABORT protocol_violation`, async () => {
        const c = transport === "ws" ? await RawWamp.ws(b, "cbor") : await RawWamp.raw(b, "msgpack");
        c.send(msg);
        await expectAbort(c);
        await assertStillServing(b);
      });
    }
  }

  const afterWelcome: Array<[string, unknown[]]> = [
    ["HELLO again", [1, "realm1", { roles: { caller: {} } }]],
    ["unknown message type", [7, {}]],
    ["a router-to-client type (EVENT)", [36, 1, 1, {}]],
    ["CALL with a string request id", [48, "1", {}, "com.proc"]],
    ["CALL with a negative request id", [48, -1, {}, "com.proc"]],
    ["CALL with an id above 2^53", [48, 2 ** 53 + 2, {}, "com.proc"]],
    ["PUBLISH with Arguments that are not a list", [16, 1, {}, "com.topic", "x"]],
    ["PUBLISH with ArgumentsKw that are not a dict", [16, 1, {}, "com.topic", [], [1]]],
    ["SUBSCRIBE with Options that are not a dict", [32, 1, [], "com.topic"]],
    ["REGISTER with too many elements", [64, 1, {}, "com.proc", 1]],
    ["YIELD without Options", [70, 1]],
    ["ERROR for a request type that is not INVOCATION", [8, 48, 1, {}, "com.err"]],
    ["AUTHENTICATE without a CHALLENGE", [5, "sig", {}]],
  ];
  for (const [name, msg] of afterWelcome) {
    test(`after WELCOME, ${name}: ABORT protocol_violation`, async () => {
      const c = await RawWamp.ws(b);
      await c.hello();
      c.send(msg);
      await expectAbort(c);
      await assertStillServing(b);
    });
  }

  test("a message that is not valid JSON / MessagePack / CBOR: ABORT protocol_violation", async () => {
    const j = await RawWamp.ws(b, "json");
    j.sendRaw(Buffer.from("[1, 'realm1'"));
    await expectAbort(j);
    const m = await RawWamp.raw(b, "msgpack");
    m.sendRaw(Buffer.from([0xc1]));
    await expectAbort(m);
    const c = await RawWamp.ws(b, "cbor");
    c.sendRaw(Buffer.from([0x9f]));
    await expectAbort(c);
    await assertStillServing(b);
  });

  test("an oversized WebSocket message: ABORT protocol_violation, before any decoding", async () => {
    const c = await RawWamp.ws(b);
    await c.hello();
    c.send([16, 1, {}, "com.topic", ["x".repeat(MAX)]]);
    await expectAbort(c);
    await assertStillServing(b);
  });

  test("RawSocket: the router announces its maximum (2^12 here); a larger frame ends the connection", async () => {
    const socket = netConnect({ host: "127.0.0.1", port: b.wampPort });
    const answer = await new Promise<Buffer>((resolve) => {
      socket.once("connect", () => socket.write(Buffer.from([0x7f, 0xf1, 0, 0])));
      socket.once("data", resolve);
    });
    assert.deepEqual([...answer.subarray(0, 4)], [0x7f, (3 << 4) | 1, 0, 0], "2^(9+3) = 4096 octets, JSON");
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX + 1);
    socket.write(header);
    await new Promise((r) => socket.once("close", r));
    await assertStillServing(b);
  });

  const handshakes: Array<[string, number[], number[] | "closed"]> = [
    ["an unsupported serializer (UBJSON)", [0x7f, 0xf4, 0, 0], [0x7f, 0x10, 0, 0]],
    ["reserved octets set", [0x7f, 0xf1, 1, 0], [0x7f, 0x30, 0, 0]],
    ["a first octet that is not 0x7F", [0x16, 0x03, 0x01, 0x00], "closed"],
  ];
  for (const [name, bytes, expected] of handshakes) {
    test(`RawSocket handshake with ${name}: the error answer (WAMP §14.5.3.1), then close`, async () => {
      const socket = netConnect({ host: "127.0.0.1", port: b.wampPort });
      const got: Buffer[] = [];
      socket.on("data", (d: Buffer) => got.push(d));
      socket.once("connect", () => socket.write(Buffer.from(bytes)));
      await new Promise((r) => socket.once("close", r));
      if (expected === "closed") assert.equal(Buffer.concat(got).length, 0);
      else assert.deepEqual([...Buffer.concat(got)], expected);
      await assertStillServing(b);
    });
  }

  test("WebSocket without a WAMP subprotocol is refused at the upgrade (HTTP 400)", async () => {
    const ws = new WebSocket(b.wampUrl);
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => resolve(101));
    });
    assert.equal(status, 400);
  });

  describe("invalid URIs answer the request with wamp.error.invalid_uri (the session goes on)", () => {
    const cases: Array<[string, unknown[], number]> = [
      ["CALL to an empty component", [48, 1, {}, "com..proc"], 48],
      ["CALL to a URI with whitespace", [48, 1, {}, "com.my proc"], 48],
      ["SUBSCRIBE exact with an empty component", [32, 1, {}, "com..topic"], 32],
      ["SUBSCRIBE to a URI with #", [32, 1, {}, "com.#"], 32],
      ["SUBSCRIBE to a URI with + (an MQTT wildcard in the core)", [32, 1, {}, "com.+.x"], 32],
      ["PUBLISH (acknowledged) to a trailing dot", [16, 1, { acknowledge: true }, "com.topic."], 16],
      [
        "PUBLISH (acknowledged) to the reserved wamp. space",
        [16, 1, { acknowledge: true }, "wamp.fake.event"],
        16,
      ],
      ["REGISTER in the reserved wamp. space", [64, 1, {}, "wamp.my.proc"], 64],
      ["REGISTER an empty URI", [64, 1, {}, ""], 64],
    ];
    for (const [name, msg, type] of cases) {
      test(name, async () => {
        const c = await RawWamp.ws(b);
        await c.hello();
        c.send(msg);
        const e = await c.next();
        assert.deepEqual(e.slice(0, 5), [8, type, 1, {}, "wamp.error.invalid_uri"]);
        c.send([48, 2, {}, "wamp.session.count"]);
        assert.equal((await c.next())[0], 50, "the session goes on");
        c.close();
      });
    }
  });

  test("strict URI checking (wamp.uriCheck: strict) refuses what loose accepts", async () => {
    const strict = await startTestBroker({ config: (cfg) => (cfg.wamp.uriCheck = "strict") });
    const c = await RawWamp.ws(strict);
    await c.hello();
    c.send([64, 1, {}, "com.Example.Proc"]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 64, 1, {}, "wamp.error.invalid_uri"]);
    c.send([64, 2, {}, "com.example.proc_2"]);
    assert.equal((await c.next())[0], 65);
    c.close();
    await strict.close();

    const loose = await RawWamp.ws(b);
    await loose.hello();
    loose.send([64, 1, {}, "com.Example.Proc-2"]);
    assert.equal((await loose.next())[0], 65);
    loose.close();
  });

  test("bad option values answer with wamp.error.invalid_argument", async () => {
    const c = await RawWamp.ws(b);
    await c.hello();
    c.send([64, 1, { invoke: "sometimes" }, "com.proc"]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 64, 1, {}, "wamp.error.invalid_argument"]);
    c.send([32, 2, { match: "regex" }, "com.topic"]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 32, 2, {}, "wamp.error.invalid_argument"]);
    c.send([48, 3, { timeout: -5 }, "com.proc"]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 48, 3, {}, "wamp.error.invalid_argument"]);
    c.send([16, 4, { acknowledge: true, eligible: ["x"] }, "com.topic"]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 16, 4, {}, "wamp.error.invalid_argument"]);
    c.send([34, 5, 424242]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 34, 5, {}, "wamp.error.no_such_subscription"]);
    c.send([66, 6, 424242]);
    assert.deepEqual((await c.next()).slice(0, 5), [8, 66, 6, {}, "wamp.error.no_such_registration"]);
    c.close();
  });

  test("no HELLO within wamp.helloTimeoutMs: ABORT and close", async () => {
    const quick = await startTestBroker({ config: (cfg) => (cfg.wamp.helloTimeoutMs = 150) });
    const c = await RawWamp.ws(quick);
    await expectAbort(c);
    await quick.close();
  });
});
