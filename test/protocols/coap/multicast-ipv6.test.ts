/**
 * Multicast answering rules (RFC 7252 §8) driven through the adapter directly (no real multicast
 * network is joined in tests), and the IPv6 listener.
 */
import assert from "node:assert/strict";
import type { RemoteInfo } from "node:dgram";
import { test } from "node:test";
import { CON, Code, NON } from "../../../src/protocols/coap/codec/constants.js";
import { decodeMessage } from "../../../src/protocols/coap/codec/decode.js";
import { startTestBroker } from "../../helpers/broker.js";
import { buildRequest, inProcessCoap, RawCoap } from "./helpers.js";

async function adapterWithSink(leisureMs: number) {
  const { adapter, sender, sent, close } = await inProcessCoap({ leisureMs });
  const from: RemoteInfo = { address: "192.0.2.7", port: 5683, family: "IPv4", size: 0 };
  return { sent, request: (bytes: Buffer) => adapter.handleDatagram(bytes, from, sender, true), close };
}

test("RFC 7252 §8.2: a multicast GET /.well-known/core is answered NON after a leisure", {
  timeout: 10_000,
}, async () => {
  const a = await adapterWithSink(200);
  try {
    a.request(buildRequest(NON, Code.GET, 1, Buffer.from([1]), "/.well-known/core"));
    const isAnswer = (b: Buffer) => {
      const r = decodeMessage(b);
      return r.ok && r.message.code === Code.Content;
    };
    assert.equal(a.sent.filter(isAnswer).length, 0, "not answered at once");
    const until = Date.now() + 2000;
    while (!a.sent.some(isAnswer) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const answer = a.sent.find(isAnswer);
    assert.ok(answer !== undefined);
    const r = decodeMessage(answer);
    assert.ok(r.ok);
    assert.equal(r.message.type, NON);
  } finally {
    await a.close();
  }
});

test("RFC 7252 §8.2: errors to multicast requests are not sent; CON multicast requests are ignored", {
  timeout: 10_000,
}, async () => {
  const a = await adapterWithSink(10);
  try {
    a.request(buildRequest(NON, Code.GET, 1, Buffer.from([1]), "/nothing"));
    a.request(buildRequest(NON, Code.GET, 2, Buffer.from([1]), "/.well-known/core?rt=no-such-type"));
    a.request(buildRequest(CON, Code.GET, 3, Buffer.from([1]), "/.well-known/core"));
    a.request(Buffer.from([0x49, 1, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9])); // format error: no RST either
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.sent.length, 0);
  } finally {
    await a.close();
  }
});

test("the CoAP listener answers on IPv6 (::1) too", { timeout: 10_000 }, async (t) => {
  const b = await startTestBroker();
  try {
    if (b.coap6Port === undefined) {
      t.skip("no IPv6 loopback on this machine");
      return;
    }
    const c = await RawCoap.open(b.coap6Port, "::1");
    try {
      c.send(buildRequest(CON, Code.PUT, 1, Buffer.from([1]), "/ps/v6", [], Buffer.from("x")));
      assert.equal((await c.next()).code, Code.Changed);
    } finally {
      await c.close();
    }
  } finally {
    await b.close();
  }
});
