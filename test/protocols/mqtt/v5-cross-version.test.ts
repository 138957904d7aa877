/** MQTT 5 and 3.1.1 clients on one topic space: v5 properties never reach a 3.1.1 client's wire. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { connect5 } from "./v5-helpers.js";

test("v5 publisher with properties -> v3.1.1 subscriber gets the plain message", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect(b.mqttUrl, { protocolVersion: 4, clientId: "x-v4-sub" });
  const pub = await connect5(b.mqttUrl, { clientId: "x-v5-pub" });
  try {
    const got = collect(sub);
    await sub.subscribeAsync("x/+", { qos: 1 });
    await pub.client.publishAsync("x/a", "plain", {
      qos: 1,
      properties: {
        userProperties: { k: ["v1", "v2"] },
        contentType: "text/plain",
        responseTopic: "x/reply",
        correlationData: Buffer.from("c"),
        messageExpiryInterval: 60,
        payloadFormatIndicator: true,
      },
    });
    await pub.client.publishAsync("x/a", "second", { qos: 0, properties: { userProperties: { k: "v" } } });
    const [m, m2] = await got.next(2);
    assert.equal(m!.topic, "x/a");
    assert.equal(m!.payload.toString(), "plain");
    assert.equal(m!.packet.qos, 1);
    assert.equal(m!.packet.properties, undefined);
    assert.equal(m2!.payload.toString(), "second");
    assert.equal(m2!.packet.properties, undefined);
  } finally {
    await endClient(pub.client);
    await endClient(sub);
    await b.close();
  }
});

test("v3.1.1 publisher -> v5 subscriber", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "x-v5-sub" });
  const pub = await connect(b.mqttUrl, { protocolVersion: 4, clientId: "x-v4-pub" });
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("y/#", { qos: 2, properties: { subscriptionIdentifier: 3 } });
    await pub.publishAsync("y/b", "from v4", { qos: 2 });
    await pub.publishAsync("y/c", "qos0", { qos: 0 });
    const [m, m2] = await got.next(2);
    assert.equal(m!.topic, "y/b");
    assert.equal(m!.payload.toString(), "from v4");
    assert.equal(m!.packet.qos, 2);
    // Only what the v5 subscription adds; no properties invented for the v3.1.1 message.
    assert.deepEqual({ ...m!.packet.properties }, { subscriptionIdentifier: 3 });
    assert.equal(m2!.topic, "y/c");
    assert.equal(m2!.packet.qos, 0);
  } finally {
    await endClient(pub);
    await endClient(sub.client);
    await b.close();
  }
});
