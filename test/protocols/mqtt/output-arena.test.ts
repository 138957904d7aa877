/**
 * QoS 1/2 deliveries of small messages are copied into the connection's output arena
 * (MqttConnection.writePublishCopy), large ones and QoS 0 are written on their own: a queue that
 * drains a mix of them must reach the client whole and in order, with every packet id distinct.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect } from "../../helpers/mqtt-client.js";

test("MQTT: a drained queue of small and large QoS 1/2 messages arrives whole and in order", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect(b.mqttUrl, { clientId: "arena-sub", clean: false, protocolVersion: 4 });
  await sub.subscribeAsync("arena/#", { qos: 2 });
  await new Promise<void>((r) => sub.end(false, {}, () => r()));
  const pub = await connect(b.mqttUrl, { protocolVersion: 4 });
  const sent: Array<{ topic: string; payload: Buffer; qos: 0 | 1 | 2 }> = [];
  try {
    // Queued while the subscriber is away (QoS 1/2 only are kept), sizes on both sides of the
    // arena's 1 KiB limit, enough to span several arenas and early flushes.
    for (let i = 0; i < 400; i++) {
      const size = i % 7 === 0 ? 3000 : i % 5 === 0 ? 1020 : 20 + (i % 50);
      const payload = Buffer.alloc(size, i % 251);
      payload.writeUInt32BE(i, 0);
      const qos = (i % 3 === 0 ? 2 : 1) as 1 | 2;
      sent.push({ topic: `arena/${i % 4}`, payload, qos });
    }
    await Promise.all(sent.map((m) => pub.publishAsync(m.topic, m.payload, { qos: m.qos })));
    // Listening before CONNACK: the queue starts to drain with it.
    const back = mqtt.connect(b.mqttUrl, {
      clientId: "arena-sub",
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const got = collect(back);
    try {
      const msgs = await got.next(sent.length, 15_000);
      // MQTT.js hands a QoS 2 message over at PUBREL, later than the QoS 1 ones around it: order
      // is compared per QoS, as [MQTT-4.6.0] orders them.
      const byQos = (qos: number, list: Array<{ payload: Buffer; topic: string }>) =>
        list.filter((_m, k) => (list === sent ? sent[k]!.qos : msgs[k]!.packet.qos) === qos);
      for (const qos of [1, 2]) {
        const want = byQos(qos, sent);
        const have = byQos(qos, msgs);
        assert.deepEqual(
          have.map((m) => m.payload.readUInt32BE(0)),
          want.map((m) => m.payload.readUInt32BE(0)),
          `QoS ${qos} in publish order`,
        );
        for (let k = 0; k < want.length; k++) {
          assert.equal(have[k]!.topic, want[k]!.topic);
          assert.ok(have[k]!.payload.equals(want[k]!.payload), `QoS ${qos} payload ${k} intact`);
        }
      }
    } finally {
      await new Promise<void>((r) => back.end(true, {}, () => r()));
    }
  } finally {
    await new Promise<void>((r) => pub.end(true, {}, () => r()));
    await b.close();
  }
});
