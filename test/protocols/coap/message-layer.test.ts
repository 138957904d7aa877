/** RFC 7252 message layer against the broker, with hand-built datagrams (RawCoap). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ACK, CON, Code, NON, Opt, RST } from "../../../src/protocols/coap/codec/constants.js";
import { encodeEmpty } from "../../../src/protocols/coap/codec/encode.js";
import { findOption } from "../../../src/protocols/coap/codec/message.js";
import { startTestBroker } from "../../helpers/broker.js";
import { buildRequest, RawCoap, uintOption, withRaw } from "./helpers.js";

const T = Buffer.from([0xca, 0xfe]);

test(
  "RFC 7252 §5.2.1: a CON request gets a piggybacked response in the ACK (same mid and token)",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(CON, Code.PUT, 0x1001, T, "/ps/x", [], Buffer.from("1")));
      const r = await c.next();
      assert.equal(r.type, ACK);
      assert.equal(r.mid, 0x1001);
      assert.deepEqual(r.token, T);
      assert.equal(r.code, Code.Changed);
    }),
);

test("RFC 7252 §5.2.3: a NON request gets a NON response with the same token", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(buildRequest(NON, Code.PUT, 0x2001, T, "/ps/x", [], Buffer.from("1")));
    const r = await c.next();
    assert.equal(r.type, NON);
    assert.deepEqual(r.token, T);
    assert.equal(r.code, Code.Changed);
  }),
);

test(
  "RFC 7252 §4.5: a duplicate CON is answered with the same bytes and processed once",
  { timeout: 10_000 },
  () =>
    withRaw(async (b, c) => {
      let published = 0;
      const orig = b.handle.router.publish.bind(b.handle.router);
      b.handle.router.publish = (m) => {
        published++;
        return orig(m);
      };
      const req = buildRequest(CON, Code.POST, 0x3001, T, "/ps/dup", [], Buffer.from("v"));
      c.send(req);
      const first = await c.nextRaw();
      c.send(req);
      const second = await c.nextRaw();
      assert.deepEqual(second, first);
      assert.equal(published, 1);
    }),
);

test("RFC 7252 §4.5: a duplicate NON is ignored", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    const req = buildRequest(NON, Code.POST, 0x3002, T, "/ps/dup", [], Buffer.from("v"));
    c.send(req);
    await c.next();
    c.send(req);
    assert.ok(await c.silent(300));
  }),
);

test(
  "RFC 7252 §4.5: a duplicate GET (idempotent) is served again with the current value; a duplicate Observe GET is not",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(CON, Code.PUT, 0x3101, T, "/ps/dupget", [], Buffer.from("a")));
      await c.next();
      const get = buildRequest(CON, Code.GET, 0x3102, T, "/ps/dupget");
      c.send(get);
      assert.equal((await c.next()).payload.toString(), "a");
      c.send(buildRequest(CON, Code.PUT, 0x3103, T, "/ps/dupget", [], Buffer.from("b")));
      await c.next();
      c.send(get); // the same message id again: not recorded, so read again
      const again = await c.next();
      assert.equal(again.mid, 0x3102);
      assert.equal(again.payload.toString(), "b");
      // A registration is recorded: its duplicate gets the first answer's bytes, not a new one.
      const observe = buildRequest(CON, Code.GET, 0x3104, Buffer.from([7]), "/ps/dupget", [
        uintOption(Opt.Observe, 0),
      ]);
      c.send(observe);
      const first = await c.nextRaw();
      c.send(observe);
      assert.deepEqual(await c.nextRaw(), first);
    }),
);

test("RFC 7252 §4.3: a CON empty message (CoAP ping) is answered with RST", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(encodeEmpty(CON, 0x4001));
    const r = await c.next();
    assert.equal(r.type, RST);
    assert.equal(r.mid, 0x4001);
    assert.equal(r.code, 0);
  }),
);

const rejectedCon: Array<[string, number[]]> = [
  ["token length 9", [0x49, 1, 0x50, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ["token length 15", [0x4f, 1, 0x50, 0x01, ...new Array(15).fill(0)]],
  ["payload marker with no payload", [0x40, 3, 0x50, 0x01, 0xff]],
  ["option delta 15 without payload marker", [0x40, 1, 0x50, 0x01, 0xf0]],
  ["option length 15", [0x40, 1, 0x50, 0x01, 0xbf]],
  ["truncated option", [0x40, 1, 0x50, 0x01, 0xb8, 0x70, 0x73]],
  ["empty message with a token", [0x41, 0, 0x50, 0x01, 0x01]],
];
for (const [name, bytes] of rejectedCon) {
  test(`RFC 7252 §4.2: a CON with a format error (${name}) is rejected with RST`, { timeout: 10_000 }, () =>
    withRaw(async (_b, c) => {
      c.send(Buffer.from(bytes));
      const r = await c.next();
      assert.equal(r.type, RST);
      assert.equal(r.mid, 0x5001);
    }),
  );
}

test("RFC 7252 §4.3: a NON with a format error is silently dropped", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(Buffer.from([0x59, 1, 0x50, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.ok(await c.silent(300));
  }),
);

test("RFC 7252 §3: a message with version 2 is silently ignored", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(Buffer.from([0x80, 1, 0x50, 0x03]));
    assert.ok(await c.silent(300));
  }),
);

test(
  "RFC 7252 §5.4.1: an unrecognized critical option in a CON request is 4.02 Bad Option",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(CON, Code.GET, 0x6001, T, "/ps/x", [{ number: 65001, value: Buffer.from("z") }]));
      const r = await c.next();
      assert.equal(r.type, ACK);
      assert.equal(r.code, Code.BadOption);
    }),
);

test(
  "RFC 7252 §5.4.1: an unrecognized critical option in a NON request is rejected with RST",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(NON, Code.GET, 0x6002, T, "/ps/x", [{ number: 9, value: Buffer.from("z") }]));
      const r = await c.next();
      assert.equal(r.type, RST);
      assert.equal(r.mid, 0x6002);
    }),
);

test("RFC 7252 §5.4.1: an unrecognized elective option is ignored", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(
      buildRequest(
        CON,
        Code.PUT,
        0x6003,
        T,
        "/ps/el",
        [{ number: 65000, value: Buffer.from("z") }],
        Buffer.from("v"),
      ),
    );
    const r = await c.next();
    assert.equal(r.code, Code.Changed);
  }),
);

test("RFC 7252 §5.4.5: a repeated non-repeatable critical option (Accept) is 4.02", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(
      buildRequest(CON, Code.GET, 0x6004, T, "/ps/x", [
        uintOption(Opt.Accept, 0),
        uintOption(Opt.Accept, 50),
      ]),
    );
    assert.equal((await c.next()).code, Code.BadOption);
  }),
);

test(
  "RFC 7252 §5.4.3: a critical option with a bad length (Content-Format of 3 bytes) is 4.02",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(
        buildRequest(CON, Code.PUT, 0x6005, T, "/ps/x", [
          { number: Opt.Accept, value: Buffer.from([1, 2, 3]) },
        ]),
      );
      assert.equal((await c.next()).code, Code.BadOption);
    }),
);

test("RFC 7252 §5.7.2: Proxy-Uri gets 5.05 Proxying Not Supported", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(
      buildRequest(CON, Code.GET, 0x6006, T, "", [
        { number: Opt.ProxyUri, value: Buffer.from("coap://x/y") },
      ]),
    );
    assert.equal((await c.next()).code, Code.ProxyingNotSupported);
  }),
);

test("RFC 7252 §5.8: an unknown method code is 4.05", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(buildRequest(CON, 7, 0x6007, T, "/ps/x"));
    assert.equal((await c.next()).code, Code.MethodNotAllowed);
  }),
);

test("RFC 7252 §5.3.2: an unexpected CON response is rejected with RST", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(buildRequest(CON, Code.Content, 0x6008, T, ""));
    const r = await c.next();
    assert.equal(r.type, RST);
    assert.equal(r.mid, 0x6008);
  }),
);

test(
  "RFC 7967: No-Response suppresses the 2.xx answer (the CON is still acknowledged)",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(
        buildRequest(CON, Code.PUT, 0x6009, T, "/ps/nr", [uintOption(Opt.NoResponse, 2)], Buffer.from("1")),
      );
      const r = await c.next();
      assert.equal(r.type, ACK);
      assert.equal(r.code, 0);
    }),
);

test("RFC 7252 §5.2.2: a slow answer gets an empty ACK first, then a CON separate response", {
  timeout: 10_000,
}, async () => {
  const slowAuth = {
    async authenticate(c: { clientId: string; protocol: string; username?: string }) {
      await new Promise((r) => setTimeout(r, 900)); // longer than separateResponseAfterMs (500)
      return {
        ok: true as const,
        principal: { clientId: c.clientId, protocol: c.protocol, anonymous: true },
      };
    },
    authorize: () => true,
  };
  const b = await startTestBroker({ auth: slowAuth });
  const c = await RawCoap.open(b.coapPort);
  try {
    c.send(buildRequest(CON, Code.PUT, 0x7001, T, "/ps/slow", [], Buffer.from("1")));
    const ack = await c.next();
    assert.equal(ack.type, ACK);
    assert.equal(ack.code, 0);
    assert.equal(ack.mid, 0x7001);
    const res = await c.next();
    assert.equal(res.type, CON);
    assert.equal(res.code, Code.Changed);
    assert.deepEqual(res.token, T);
    // Acknowledge it; otherwise the broker retransmits (checked below by not acknowledging a second one).
    c.send(encodeEmpty(ACK, res.mid));
    assert.ok(await c.silent(500));
  } finally {
    await c.close();
    await b.close();
  }
});

test(
  "RFC 7252 §11.3: an unverified source gets blocks no larger than 3x its request, and is pinged",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(CON, Code.PUT, 0x8001, T, "/ps/big", [], Buffer.alloc(900, 0x61)));
      await c.next();
      const get = buildRequest(CON, Code.GET, 0x8002, T, "/ps/big");
      c.send(get);
      const got: Array<{ type: number; code: number; size: number; block2?: Buffer }> = [];
      for (let i = 0; i < 2; i++) {
        const raw = await c.nextRaw();
        const { decodeMessage } = await import("../../../src/protocols/coap/codec/decode.js");
        const m = decodeMessage(raw);
        assert.ok(m.ok);
        got.push({
          type: m.message.type,
          code: m.message.code,
          size: raw.length,
          block2: findOption(m.message, Opt.Block2),
        });
      }
      const ping = got.find((g) => g.type === CON && g.code === 0);
      const resp = got.find((g) => g.type === ACK);
      assert.ok(ping, "a CoAP ping checks the source");
      assert.ok(resp);
      assert.ok(resp.size <= 3 * get.length, `response ${resp.size} bytes for a ${get.length}-byte request`);
      assert.ok(resp.block2 !== undefined, "the response is the first block");
    }),
);

test(
  "RFC 7252 §11.3: a source that answers the ping with RST gets the whole answer, piggybacked",
  { timeout: 10_000 },
  () =>
    withRaw(async (_b, c) => {
      c.send(buildRequest(CON, Code.PUT, 0x8101, T, "/ps/big2", [], Buffer.alloc(900, 0x62)));
      await c.next();
      c.send(buildRequest(CON, Code.GET, 0x8102, T, "/ps/big2"));
      const ping = await c.next();
      assert.equal(ping.type, CON);
      assert.equal(ping.code, 0);
      c.send(encodeEmpty(RST, ping.mid));
      const r = await c.next();
      assert.equal(r.type, ACK);
      assert.equal(r.mid, 0x8102);
      assert.equal(r.payload.length, 900);
      assert.equal(findOption(r, Opt.Block2), undefined);
    }),
);
