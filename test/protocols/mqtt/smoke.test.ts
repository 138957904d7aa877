import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: publish and subscribe over TCP and WebSocket`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    try {
      const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
      const got = collect(sub);
      await sub.subscribeAsync("a/+/c", { qos: 1 });
      const pub = await connect(b.wsUrl, { protocolVersion, clientId: "pub" });
      await pub.publishAsync("a/b/c", "hello", { qos: 1 });
      const [m] = await got.next(1);
      assert.equal(m!.topic, "a/b/c");
      assert.equal(m!.payload.toString(), "hello");
      assert.equal(m!.packet.qos, 1);
      await endClient(pub);
      await endClient(sub);
    } finally {
      await b.close();
    }
  });
}
