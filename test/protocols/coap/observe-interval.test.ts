/** RFC 7641 §4.5: a NON observer gets a confirmable notification at least every 24 h (here: shortened). */
import assert from "node:assert/strict";
import type { RemoteInfo } from "node:dgram";
import { test } from "node:test";
import { createMessage } from "../../../src/core/message.js";
import { CON, Code, NON, Opt } from "../../../src/protocols/coap/codec/constants.js";
import { decodeMessage } from "../../../src/protocols/coap/codec/decode.js";
import { uintOption } from "../../../src/protocols/coap/codec/message.js";
import { buildRequest, inProcessCoap } from "./helpers.js";

test("RFC 7641 §4.5: after observeConIntervalMs without one, the next notification is confirmable", {
  timeout: 10_000,
}, async () => {
  const { router, adapter, sender, sent, close } = await inProcessCoap({
    observeConIntervalMs: 200,
    observeConEvery: 1000,
  });
  const from: RemoteInfo = { address: "127.0.0.1", port: 40000, family: "IPv4", size: 0 };
  try {
    adapter.handleDatagram(
      buildRequest(NON, Code.GET, 1, Buffer.from([1]), "/ps/day", [uintOption(Opt.Observe, 0)]),
      from,
      sender,
      false,
    );
    const until = Date.now() + 2000;
    while (router.subscriptionCount === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const types = () =>
      sent.map((b) => {
        const r = decodeMessage(b);
        assert.ok(r.ok);
        return r.message.type;
      });
    router.publish(createMessage("day", Buffer.from("1")));
    router.publish(createMessage("day", Buffer.from("2")));
    await new Promise((r) => setTimeout(r, 300));
    router.publish(createMessage("day", Buffer.from("3")));
    // Notifications leave at the end of the event-loop turn (notify-batch.ts).
    await new Promise((r) => setImmediate(r));
    // registration answer, two NON notifications, then a CON one: the interval had passed.
    assert.deepEqual(types(), [NON, NON, NON, CON]);
  } finally {
    await close();
  }
});
