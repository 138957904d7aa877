import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { RawMqtt } from "../../helpers/raw-mqtt.js";

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: a silent client is disconnected after 1.5 x keep alive`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    let raw: RawMqtt | undefined;
    try {
      const { client, connack } = await RawMqtt.connect(b.mqttPort, protocolVersion, "quiet", {
        keepalive: 1,
      });
      raw = client;
      assert.equal(connack.reasonCode, 0);
      const t0 = Date.now();
      await client.waitClose(4000);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 1300 && elapsed < 2500, `closed after ${elapsed} ms`);
      if (protocolVersion === 5) {
        const d = client.packets.find((p) => p.cmd === "disconnect");
        assert.equal(d?.cmd === "disconnect" ? d.reasonCode : undefined, 0x8d, "Keep Alive timeout");
      }
    } finally {
      raw?.destroy();
      await b.close();
    }
  });

  test(`MQTT ${protocolVersion}: PINGREQ keeps the connection alive`, { timeout: 10_000 }, async () => {
    const b = await startTestBroker();
    let raw: RawMqtt | undefined;
    try {
      const { client } = await RawMqtt.connect(b.mqttPort, protocolVersion, "pinger", { keepalive: 1 });
      raw = client;
      // 2.5 s of pings every 500 ms: well past the 1.5 s limit.
      for (let i = 0; i < 5; i++) {
        client.send({ cmd: "pingreq" });
        await client.waitFor("pingresp", 1000);
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(client.closed, false);
      assert.ok(b.handle.router.sessions.get("pinger")?.connection);
    } finally {
      raw?.destroy();
      await b.close();
    }
  });
}

test("MQTT: a connection that never sends CONNECT is dropped after connectTimeoutMs", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { connectTimeoutMs: 300 } });
  let raw: RawMqtt | undefined;
  try {
    raw = await RawMqtt.open(b.mqttPort);
    const t0 = Date.now();
    await raw.waitClose(3000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 250 && elapsed < 1500, `closed after ${elapsed} ms`);
  } finally {
    raw?.destroy();
    await b.close();
  }
});
