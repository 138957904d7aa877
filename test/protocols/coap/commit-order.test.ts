/**
 * A 2.04 to a publish that must survive a crash (QoS 1 or retained) leaves only after the store
 * commit, and the observers' notifications leave after the publisher's answer (notify-batch.ts).
 */
import assert from "node:assert/strict";
import type { RemoteInfo } from "node:dgram";
import { test } from "node:test";
import { ACK, CON, Code, NON, Opt } from "../../../src/protocols/coap/codec/constants.js";
import { decodeMessage } from "../../../src/protocols/coap/codec/decode.js";
import { uintOption } from "../../../src/protocols/coap/codec/message.js";
import { GatedStore } from "../../helpers/gated-store.js";
import { buildRequest, inProcessCoap } from "./helpers.js";

async function until(what: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

async function setup() {
  const store = new GatedStore();
  const coap = await inProcessCoap({}, store);
  /** What was sent: port, message type and code of each datagram, in order. */
  const sent = () =>
    coap.sent.map((b, i) => {
      const r = decodeMessage(b);
      assert.ok(r.ok);
      return { port: coap.ports[i]!, type: r.message.type, code: r.message.code };
    });
  const from = (port: number): RemoteInfo => ({ address: "127.0.0.1", port, family: "IPv4", size: 0 });
  return { store, ...coap, sent, from };
}

test("CoAP: a CON PUT (QoS 1, retained) is answered after the store commit, then observers are notified", {
  timeout: 10_000,
}, async () => {
  const { store, router, adapter, sent, clearSent, sender, from, close } = await setup();
  try {
    adapter.handleDatagram(
      buildRequest(NON, Code.GET, 1, Buffer.from([1]), "/ps/gate", [uintOption(Opt.Observe, 0)]),
      from(40001),
      sender,
      false,
    );
    await until(() => router.subscriptionCount > 0 && sent().length > 0);
    clearSent();
    store.gated = true;
    adapter.handleDatagram(
      buildRequest(CON, Code.PUT, 2, Buffer.from([2]), "/ps/gate", [], Buffer.from("v")),
      from(40002),
      sender,
      false,
    );
    // Request handling is asynchronous (authentication): the notification shows it went through.
    await until(() => sent().length > 0);
    await new Promise((r) => setTimeout(r, 20));
    // The notification may leave (the message is routed), the publisher's answer may not yet.
    assert.equal(
      sent().some((s) => s.port === 40002),
      false,
      "2.04 sent before the commit",
    );
    assert.ok(store.commits > 0);
    store.open();
    await until(() => sent().length >= 2);
    assert.deepEqual(
      sent().map((s) => [s.port, s.type, s.code]),
      [
        [40001, NON, Code.Content],
        [40002, ACK, Code.Changed],
      ],
    );
  } finally {
    store.open();
    await close();
  }
});

test("CoAP: the publisher's 2.04 leaves before the notifications its PUT causes", {
  timeout: 10_000,
}, async () => {
  const { router, adapter, sent, clearSent, sender, from, close } = await setup();
  // Commits complete at once here (not gated): only the order of the two datagrams is under test.
  try {
    adapter.handleDatagram(
      buildRequest(NON, Code.GET, 1, Buffer.from([1]), "/ps/order", [uintOption(Opt.Observe, 0)]),
      from(40001),
      sender,
      false,
    );
    await until(() => router.subscriptionCount > 0 && sent().length > 0);
    clearSent();
    adapter.handleDatagram(
      buildRequest(CON, Code.PUT, 2, Buffer.from([2]), "/ps/order", [], Buffer.from("v")),
      from(40002),
      sender,
      false,
    );
    await until(() => sent().length >= 2);
    assert.deepEqual(
      sent().map((s) => s.port),
      [40002, 40001],
    );
  } finally {
    await close();
  }
});

test("CoAP: DELETE of a topic with a kept value is answered after the store commit", {
  timeout: 10_000,
}, async () => {
  const { store, adapter, sent, clearSent, sender, from, close } = await setup();
  try {
    adapter.handleDatagram(
      buildRequest(CON, Code.PUT, 1, Buffer.from([1]), "/ps/gone", [], Buffer.from("v")),
      from(40003),
      sender,
      false,
    );
    await until(() => sent().length > 0);
    clearSent();
    store.gated = true;
    adapter.handleDatagram(
      buildRequest(CON, Code.DELETE, 2, Buffer.from([2]), "/ps/gone"),
      from(40003),
      sender,
      false,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sent().length, 0, "2.02 sent before the commit");
    assert.ok(store.commits > 0);
    store.open();
    await until(() => sent().length > 0);
    assert.deepEqual(
      sent().map((s) => [s.port, s.type, s.code]),
      [[40003, ACK, Code.Deleted]],
    );
  } finally {
    store.open();
    await close();
  }
});
