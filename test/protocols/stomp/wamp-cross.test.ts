/**
 * STOMP and WAMP on the one topic space: `/topic/a.b.c` is WAMP URI `a.b.c` (both are MQTT `a/b/c`),
 * with @stomp/stompjs over TCP and autobahn over WebSocket/JSON and RawSocket/MessagePack.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { inbox, sendWithReceipt, stompjs, withTimeout } from "../../helpers/stomp-clients.js";
import { joinAutobahn, until, VARIANTS } from "../../helpers/wamp.js";

for (const v of [VARIANTS[0]!, VARIANTS[4]!]) {
  test(`cross-protocol STOMP <-> WAMP (${v.name}): text, JSON and binary both ways`, {
    timeout: 20_000,
  }, async () => {
    const b = await startTestBroker();
    const stomp = await stompjs({ tcp: b.stompPort });
    const wamp = await joinAutobahn(b, v);
    try {
      // STOMP -> WAMP
      const events: Array<{ args: unknown[]; topic: string }> = [];
      await wamp.session.subscribe(
        "plant.line1",
        (args: unknown[], _kw: unknown, details: { topic?: string }) =>
          events.push({ args, topic: details.topic ?? "plant.line1.x" }),
        { match: "prefix" },
      );
      await sendWithReceipt(stomp, "/topic/plant.line1.temp", "21.5", { "content-type": "text/plain" });
      await sendWithReceipt(stomp, "/topic/plant.line1.state", JSON.stringify({ on: true, rpm: 1200 }), {
        "content-type": "application/json",
      });
      const bin = new Uint8Array([0, 255, 0, 1]);
      await sendWithReceipt(stomp, "/topic/plant.line1.raw", bin, {
        "content-type": "application/octet-stream",
      });
      await until(() => events.length === 3, "three WAMP events", 5000);
      assert.deepEqual(events[0]!.args, ["21.5"]);
      assert.equal(events[0]!.topic, "plant.line1.temp");
      assert.deepEqual(events[1]!.args, [{ on: true, rpm: 1200 }]);
      // Binary: a byte string in MessagePack; in JSON WAMP's "\0" + Base64 string, which autobahn
      // hands over as it is.
      const raw = events[2]!.args[0];
      const bytes =
        typeof raw === "string" && raw.startsWith("\u0000")
          ? Buffer.from(raw.slice(1), "base64")
          : Buffer.from(raw as Uint8Array);
      assert.deepEqual(bytes, Buffer.from(bin));

      // WAMP -> STOMP
      const box = inbox();
      const receipt = "sub-1";
      const subscribed = new Promise<void>((r) => stomp.watchForReceipt(receipt, () => r()));
      stomp.subscribe("/topic/plant.*.cmd", box.onMessage, { receipt });
      await withTimeout(subscribed, 5000, "SUBSCRIBE receipt");
      await wamp.session.publish("plant.line2.cmd", ["stop"], {}, { acknowledge: true });
      await wamp.session.publish("plant.line2.cmd", [{ speed: 3 }], {}, { acknowledge: true });
      const [text, json] = await box.next(2);
      assert.equal(text!.headers.destination, "/topic/plant.line2.cmd");
      assert.equal(text!.body, "stop");
      assert.equal(json!.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(json!.body), { speed: 3 });
    } finally {
      await wamp.close();
      await stomp.deactivate();
      await b.close();
    }
  });
}
