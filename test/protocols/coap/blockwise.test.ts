/** Block-wise transfer (RFC 7959): Block1 uploads, Block2 downloads and notifications, Size1/Size2. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { decodeBlock } from "../../../src/protocols/coap/codec/block.js";
import { CON, Code, NON, Opt } from "../../../src/protocols/coap/codec/constants.js";
import { type CoapMessage, findOption, readUint } from "../../../src/protocols/coap/codec/message.js";
import { startTestBroker } from "../../helpers/broker.js";
import {
  buildRequest,
  closeAgent,
  coapRequest,
  inProcessCoap,
  newAgent,
  type RawCoap,
  uintOption,
  withRaw,
} from "./helpers.js";

const T = Buffer.from([9]);

const block = (m: CoapMessage, n: number) => {
  const v = findOption(m, n);
  return v === undefined ? undefined : decodeBlock(readUint(v));
};

/** Block1 (szx 6 = 1024 bytes) upload by hand; returns the final response. */
async function upload(c: RawCoap, path: string, body: Buffer, szx = 6, mid0 = 100): Promise<CoapMessage> {
  const size = 1 << (szx + 4);
  let last: CoapMessage | undefined;
  for (let num = 0; num * size < body.length; num++) {
    const more = (num + 1) * size < body.length;
    const v = num * 16 + (more ? 8 : 0) + szx;
    c.send(
      buildRequest(
        CON,
        Code.PUT,
        (mid0 + num) & 0xffff,
        T,
        path,
        [uintOption(Opt.Block1, v)],
        body.subarray(num * size, (num + 1) * size),
      ),
    );
    last = await c.next();
    if (more) {
      assert.equal(last.code, Code.Continue, `block ${num}`);
      assert.equal(block(last, Opt.Block1)?.more, true);
    }
  }
  return last!;
}

test(
  "RFC 7959 §2.3: a 1 MiB PUT in Block1 blocks is reassembled and published (2.04 with Block1)",
  { timeout: 60_000 },
  () =>
    withRaw(
      async (b, c) => {
        const body = randomBytes(1_048_576);
        const r = await upload(c, "/ps/big/one", body);
        assert.equal(r.code, Code.Changed);
        assert.equal(block(r, Opt.Block1)?.more, false);
        let stored: Buffer | undefined;
        b.handle.router.retainedMatching("big/one", (m) => {
          stored = m.payload;
        });
        assert.ok(stored?.equals(body));
      },
      { coap: { amplificationFactor: 0, rateLimit: 0 } },
    ),
);

test("npm coap: a 200 KiB PUT (Block1) and GET (Block2) round-trip", { timeout: 60_000 }, async () => {
  const b = await startTestBroker({ coap: { rateLimit: 0 } });
  const agent = newAgent();
  try {
    const body = randomBytes(200 * 1024);
    const put = await coapRequest(
      {
        agent,
        port: b.coapPort,
        method: "PUT",
        pathname: "/ps/big/two",
        payload: body,
        options: { Block1: Buffer.from([6]) },
      },
      30_000,
    );
    assert.equal(put.code, "2.04");
    const get = await coapRequest({ agent, port: b.coapPort, pathname: "/ps/big/two" }, 30_000);
    assert.equal(get.code, "2.05");
    assert.ok(get.payload.equals(body), `got ${get.payload.length} bytes`);
  } finally {
    closeAgent(agent);
    await b.close();
  }
});

test("RFC 7959 §2.3: a block out of order is 4.08 Request Entity Incomplete", { timeout: 10_000 }, () =>
  withRaw(async (_b, c) => {
    c.send(
      buildRequest(
        CON,
        Code.PUT,
        1,
        T,
        "/ps/oo",
        [uintOption(Opt.Block1, 2 * 16 + 8 + 6)],
        Buffer.alloc(1024),
      ),
    );
    assert.equal((await c.next()).code, Code.RequestEntityIncomplete);
  }),
);

test("RFC 7959 §2.9.3: a body over maxPayloadSize is 4.13 with Size1", { timeout: 10_000 }, () =>
  withRaw(
    async (_b, c) => {
      c.send(
        buildRequest(
          CON,
          Code.PUT,
          1,
          T,
          "/ps/toolarge",
          [uintOption(Opt.Block1, 8 + 6), uintOption(Opt.Size1, 1_000_000)],
          Buffer.alloc(1024),
        ),
      );
      const r = await c.next();
      assert.equal(r.code, Code.RequestEntityTooLarge);
      assert.equal(readUint(findOption(r, Opt.Size1)!), 4096);
      // Without Size1, it fails when the blocks pass the limit.
      const last = await upload(c, "/ps/toolarge2", Buffer.alloc(5000), 6, 10).catch((e: Error) => e);
      assert.ok(last instanceof Error || last.code === Code.RequestEntityTooLarge);
    },
    { coap: { maxPayloadSize: 4096, amplificationFactor: 0 } },
  ),
);

test(
  "RFC 7959 §2.4: GET of a large value is served in Block2 blocks with Size2 on the first",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (_b, c) => {
        const body = randomBytes(3000);
        await upload(c, "/ps/big/three", body);
        const parts: Buffer[] = [];
        for (let num = 0; ; num++) {
          c.send(
            buildRequest(
              CON,
              Code.GET,
              500 + num,
              T,
              "/ps/big/three",
              num === 0 ? [] : [uintOption(Opt.Block2, num * 16 + 6)],
            ),
          );
          const r = await c.next();
          assert.equal(r.code, Code.Content);
          const b2 = block(r, Opt.Block2)!;
          assert.equal(b2.num, num);
          if (num === 0) assert.equal(readUint(findOption(r, Opt.Size2)!), 3000);
          parts.push(r.payload);
          if (!b2.more) break;
        }
        assert.ok(Buffer.concat(parts).equals(body));
      },
      { coap: { amplificationFactor: 0 } },
    ),
);

test("RFC 7959 §2.4: the client may ask for smaller blocks (szx 2 = 64 bytes)", { timeout: 10_000 }, () =>
  withRaw(
    async (_b, c) => {
      await upload(c, "/ps/big/four", Buffer.alloc(200, 1));
      c.send(buildRequest(CON, Code.GET, 600, T, "/ps/big/four", [uintOption(Opt.Block2, 1 * 16 + 2)]));
      const r = await c.next();
      assert.equal(r.payload.length, 64);
      assert.deepEqual(block(r, Opt.Block2), { num: 1, more: true, szx: 2 });
    },
    { coap: { amplificationFactor: 0 } },
  ),
);

test(
  "RFC 7959 §3.4: a large notification carries its first block; the rest is fetched with GET",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (b, c) => {
        c.send(buildRequest(NON, Code.GET, 1, T, "/ps/big/obs", [uintOption(Opt.Observe, 0)]));
        await c.next();
        b.handle.router.publish({
          topic: "big/obs",
          payload: Buffer.alloc(2500, 7),
          qos: 0,
          retain: true,
          properties: {},
          publisherId: "t",
          timestamp: Date.now(),
        });
        const n = await c.next();
        assert.ok(findOption(n, Opt.Observe) !== undefined);
        assert.deepEqual(block(n, Opt.Block2), { num: 0, more: true, szx: 6 });
        assert.equal(readUint(findOption(n, Opt.Size2)!), 2500);
        assert.equal(n.payload.length, 1024);
        // npm coap 1.5 asks for the later blocks with its registration's token and Observe 0 still
        // set: that is a block of this notification, not a new registration (only block 0 registers).
        c.send(
          buildRequest(CON, Code.GET, 2, T, "/ps/big/obs", [
            uintOption(Opt.Observe, 0),
            uintOption(Opt.Block2, 2 * 16 + 6),
          ]),
        );
        const last = await c.next();
        assert.deepEqual(block(last, Opt.Block2), { num: 2, more: false, szx: 6 });
        assert.equal(last.payload.length, 2500 - 2048);
        assert.equal(findOption(last, Opt.Observe), undefined);
        assert.equal(b.handle.router.subscriptionCount, 1);
        b.handle.router.publish({
          topic: "big/obs",
          payload: Buffer.from("still observed"),
          qos: 0,
          retain: true,
          properties: {},
          publisherId: "t",
          timestamp: Date.now(),
        });
        const next = await c.next();
        assert.equal(next.payload.toString(), "still observed");
        assert.ok(readUint(findOption(next, Opt.Observe)!) > readUint(findOption(n, Opt.Observe)!));
      },
      { coap: { amplificationFactor: 0 } },
    ),
);

test(
  "RFC 7959 §3.4: the rest of a large notification that was not retained is served from that notification",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (b, c) => {
        c.send(buildRequest(NON, Code.GET, 1, T, "/ps/big/live", [uintOption(Opt.Observe, 0)]));
        await c.next();
        const body = Buffer.alloc(2500);
        for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
        b.handle.router.publish({
          topic: "big/live",
          payload: body,
          qos: 0,
          retain: false,
          properties: {},
          publisherId: "t",
          timestamp: Date.now(),
        });
        const n = await c.next();
        assert.deepEqual(block(n, Opt.Block2), { num: 0, more: true, szx: 6 });
        assert.ok(findOption(n, Opt.Observe) !== undefined);
        // RFC 7959 §3.4 (Figure 12): the notification carries the ETag its later blocks come with.
        const etag = findOption(n, Opt.ETag);
        assert.equal(etag?.length, 8);
        const parts = [n.payload];
        for (let num = 1; num <= 2; num++) {
          // The later blocks are plain GETs without Observe (RFC 7959 §2.6), with a new token.
          const token = Buffer.from([0x40 + num]);
          c.send(
            buildRequest(CON, Code.GET, 1 + num, token, "/ps/big/live", [
              uintOption(Opt.Block2, num * 16 + 6),
            ]),
          );
          const r = await c.next();
          assert.equal(r.code, Code.Content);
          assert.ok(r.token.equals(token));
          assert.deepEqual(block(r, Opt.Block2), { num, more: num < 2, szx: 6 });
          assert.equal(findOption(r, Opt.Observe), undefined, "a later block is no notification");
          assert.ok(findOption(r, Opt.ETag)?.equals(etag!), "same ETag as the notification");
          parts.push(r.payload);
        }
        assert.ok(Buffer.concat(parts).equals(body));
        // A small notification needs no ETag to tie blocks together, and has none.
        b.handle.router.publish({
          topic: "big/live",
          payload: Buffer.from("small"),
          qos: 0,
          retain: false,
          properties: {},
          publisherId: "t",
          timestamp: Date.now(),
        });
        const small = await c.next();
        assert.equal(small.payload.toString(), "small");
        assert.ok(findOption(small, Opt.Observe) !== undefined);
        assert.equal(findOption(small, Opt.ETag), undefined);
      },
      { coap: { amplificationFactor: 0 } },
    ),
);

test("RFC 7959: a preferred block size of 256 is used for uploads and downloads", { timeout: 10_000 }, () =>
  withRaw(
    async (_b, c) => {
      c.send(
        buildRequest(CON, Code.PUT, 1, T, "/ps/pref", [uintOption(Opt.Block1, 8 + 6)], Buffer.alloc(1024, 3)),
      );
      const r = await c.next();
      assert.equal(r.code, Code.Continue);
      // The server asks for 256-byte blocks; 1024 bytes received = blocks 0..3 of 256.
      assert.deepEqual(block(r, Opt.Block1), { num: 3, more: true, szx: 4 });
      c.send(
        buildRequest(
          CON,
          Code.PUT,
          2,
          T,
          "/ps/pref",
          [uintOption(Opt.Block1, 4 * 16 + 4)],
          Buffer.alloc(100, 3),
        ),
      );
      assert.equal((await c.next()).code, Code.Changed);
      c.send(buildRequest(CON, Code.GET, 3, T, "/ps/pref"));
      const g = await c.next();
      assert.deepEqual(block(g, Opt.Block2), { num: 0, more: true, szx: 4 });
      assert.equal(readUint(findOption(g, Opt.Size2)!), 1124);
    },
    { coap: { blockSize: 256, amplificationFactor: 0 } },
  ),
);

test("uploads in progress together stay under maxReassemblyBytes (5.03 with Max-Age past it)", {
  timeout: 10_000,
}, async () => {
  const { decodeMessage } = await import("../../../src/protocols/coap/codec/decode.js");
  const { adapter, sender, sent, close } = await inProcessCoap({
    maxReassemblyBytes: 3000,
    amplificationFactor: 0,
  });
  const codes: number[] = [];
  try {
    // Three clients (ports) each start a 1024-byte-block upload: the third passes 3000 bytes.
    for (let i = 0; i < 3; i++) {
      const from = { address: "127.0.0.1", port: 41000 + i, family: "IPv4" as const, size: 0 };
      adapter.handleDatagram(
        buildRequest(CON, Code.PUT, 1, T, `/ps/up${i}`, [uintOption(Opt.Block1, 8 + 6)], Buffer.alloc(1024)),
        from,
        sender,
        false,
      );
    }
    const until = Date.now() + 2000;
    while (sent.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const b of sent) {
      const r = decodeMessage(b);
      assert.ok(r.ok);
      codes.push(r.message.code);
    }
    assert.deepEqual(codes, [Code.Continue, Code.Continue, Code.ServiceUnavailable]);
  } finally {
    await close();
  }
});
