/** Observe (RFC 7641) against the broker with hand-built messages. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ACK, CON, Code, NON, Opt, RST } from "../../../src/protocols/coap/codec/constants.js";
import { encodeEmpty } from "../../../src/protocols/coap/codec/encode.js";
import { type CoapMessage, findOption, readUint } from "../../../src/protocols/coap/codec/message.js";
import type { TestBroker } from "../../helpers/broker.js";
import { buildRequest, uintOption, withRaw } from "./helpers.js";

const T = Buffer.from([1, 2, 3, 4]);

function publish(b: TestBroker, topic: string, payload: string, retain = false): void {
  b.handle.router.publish({
    topic,
    payload: Buffer.from(payload),
    qos: 0,
    retain,
    properties: {},
    publisherId: "test",
    timestamp: Date.now(),
  });
}

const observeOf = (m: CoapMessage): number | undefined => {
  const v = findOption(m, Opt.Observe);
  return v === undefined ? undefined : readUint(v);
};

function observerCount(b: TestBroker): number {
  return b.handle.router.subscriptionCount;
}

test(
  "RFC 7641 §3.1/§4.2: GET with Observe 0 registers; notifications carry increasing sequence numbers",
  { timeout: 10_000 },
  () =>
    withRaw(async (b, c) => {
      c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/a", [uintOption(Opt.Observe, 0)]));
      const reg = await c.next();
      assert.equal(reg.code, Code.Content);
      const first = observeOf(reg);
      assert.ok(first !== undefined, "registration answer has Observe");
      publish(b, "obs/a", "one");
      publish(b, "obs/a", "two");
      const n1 = await c.next();
      const n2 = await c.next();
      assert.equal(n1.type, NON);
      assert.deepEqual(n1.token, T);
      assert.equal(n1.payload.toString(), "one");
      assert.equal(n2.payload.toString(), "two");
      assert.ok(observeOf(n1)! > first && observeOf(n2)! > observeOf(n1)!);
    }),
);

test("RFC 7641 §3.6: GET with Observe 1 deregisters", { timeout: 10_000 }, () =>
  withRaw(async (b, c) => {
    c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/b", [uintOption(Opt.Observe, 0)]));
    await c.next();
    assert.equal(observerCount(b), 1);
    c.send(buildRequest(NON, Code.GET, 2, T, "/ps/obs/b", [uintOption(Opt.Observe, 1)]));
    const r = await c.next();
    assert.equal(observeOf(r), undefined);
    assert.equal(observerCount(b), 0);
    publish(b, "obs/b", "x");
    assert.ok(await c.silent(300));
  }),
);

test("RFC 7641 §3.6: an RST in answer to a NON notification ends the observation", { timeout: 10_000 }, () =>
  withRaw(async (b, c) => {
    c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/c", [uintOption(Opt.Observe, 0)]));
    await c.next();
    publish(b, "obs/c", "x");
    const n = await c.next();
    c.send(encodeEmpty(RST, n.mid));
    await waitFor(() => observerCount(b) === 0);
  }),
);

test(
  "?qos=1 makes notifications confirmable; they are retransmitted until acknowledged",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (b, c) => {
        c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/d?qos=1", [uintOption(Opt.Observe, 0)]));
        await c.next();
        publish(b, "obs/d", "x");
        const n = await c.next();
        assert.equal(n.type, CON);
        const again = await c.next(); // not acknowledged: sent again with the same message id
        assert.equal(again.mid, n.mid);
        assert.equal(again.payload.toString(), "x");
        c.send(encodeEmpty(ACK, n.mid));
        assert.ok(await c.silent(400));
        assert.equal(observerCount(b), 1);
      },
      { coap: { ackTimeoutMs: 100 } },
    ),
);

test(
  "RFC 7641 §4.5: a CON notification that is never acknowledged ends the observation",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (b, c) => {
        c.send(buildRequest(CON, Code.GET, 1, T, "/ps/obs/e", [uintOption(Opt.Observe, 0)]));
        const reg = await c.next();
        assert.equal(reg.type, ACK);
        publish(b, "obs/e", "x");
        const n = await c.next();
        assert.equal(n.type, CON, "registered with a CON request: CON notifications");
        // 1 + maxRetransmit (2) transmissions, then the observer is gone.
        await c.next();
        await c.next();
        await waitFor(() => observerCount(b) === 0, 3000);
      },
      { coap: { ackTimeoutMs: 50, maxRetransmit: 2 } },
    ),
);

test("RFC 7641 §3.6: an RST to a CON notification ends the observation", { timeout: 10_000 }, () =>
  withRaw(
    async (b, c) => {
      c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/f?qos=1", [uintOption(Opt.Observe, 0)]));
      await c.next();
      publish(b, "obs/f", "x");
      const n = await c.next();
      c.send(encodeEmpty(RST, n.mid));
      await waitFor(() => observerCount(b) === 0);
    },
    { coap: { ackTimeoutMs: 2000 } },
  ),
);

test("RFC 7641 §4.5: every Nth notification to a NON observer is confirmable", { timeout: 10_000 }, () =>
  withRaw(
    async (b, c) => {
      c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/g", [uintOption(Opt.Observe, 0)]));
      await c.next();
      const types: number[] = [];
      for (let i = 0; i < 6; i++) {
        publish(b, "obs/g", String(i));
        const n = await c.next();
        types.push(n.type);
        if (n.type === CON) c.send(encodeEmpty(ACK, n.mid));
      }
      assert.deepEqual(types, [NON, NON, CON, NON, NON, CON]);
    },
    { coap: { observeConEvery: 3 } },
  ),
);

test("RFC 7641 §4.1: registering again with the same token keeps one observation", { timeout: 10_000 }, () =>
  withRaw(async (b, c) => {
    c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/h", [uintOption(Opt.Observe, 0)]));
    await c.next();
    c.send(buildRequest(NON, Code.GET, 2, T, "/ps/obs/h", [uintOption(Opt.Observe, 0)]));
    await c.next();
    assert.equal(observerCount(b), 1);
    publish(b, "obs/h", "x");
    await c.next();
    assert.ok(await c.silent(300), "one notification, not two");
  }),
);

test(
  "observers of a topic with no value get an empty 2.05 with Observe, then the first value",
  { timeout: 10_000 },
  () =>
    withRaw(async (b, c) => {
      c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/i", [uintOption(Opt.Observe, 0)]));
      const reg = await c.next();
      assert.equal(reg.code, Code.Content);
      assert.equal(reg.payload.length, 0);
      assert.ok(observeOf(reg) !== undefined);
      publish(b, "obs/i", "first");
      assert.equal((await c.next()).payload.toString(), "first");
    }),
);

test(
  "the observer appears as a coap session in presence and leaves with its last observation",
  { timeout: 10_000 },
  () =>
    withRaw(async (b, c) => {
      c.send(buildRequest(NON, Code.GET, 1, T, "/ps/obs/j?clientid=dev-1", [uintOption(Opt.Observe, 0)]));
      await c.next();
      const s = b.handle.router.sessions.get("dev-1");
      assert.ok(s?.connection);
      assert.equal(s.connection.info.protocol, "coap");
      c.send(buildRequest(NON, Code.GET, 2, T, "/ps/obs/j?clientid=dev-1", [uintOption(Opt.Observe, 1)]));
      await c.next();
      assert.equal(b.handle.router.sessions.get("dev-1"), undefined);
    }),
);

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test(
  "RFC 7641 §4.1: past maxObserversPerPeer the answer has no Observe option (not registered)",
  { timeout: 10_000 },
  () =>
    withRaw(
      async (b, c) => {
        c.send(buildRequest(NON, Code.GET, 1, T, "/ps/cap/a", [uintOption(Opt.Observe, 0)]));
        assert.ok(observeOf(await c.next()) !== undefined);
        publish(b, "cap/b", "v", true);
        c.send(buildRequest(NON, Code.GET, 2, Buffer.from([8]), "/ps/cap/b", [uintOption(Opt.Observe, 0)]));
        const second = await c.next();
        assert.equal(second.code, Code.Content);
        assert.equal(second.payload.toString(), "v");
        assert.equal(observeOf(second), undefined);
        assert.equal(observerCount(b), 1);
      },
      { coap: { maxObserversPerPeer: 1 } },
    ),
);
