/** MQTT 5 Maximum Packet Size in both directions (§3.1.2.11.4, §3.2.2.3.6). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PublishPacket } from "../../../src/protocols/mqtt/codec/packets.js";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { connect5, connectPacket, rawConnect } from "./v5-helpers.js";

test("v5 a PUBLISH larger than mqtt.maxPacketSize gets DISCONNECT 0x95 and the connection closes", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxPacketSize: 1024 } });
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("big"));
    const ack = await c.next("connack");
    assert.equal(ack.cmd === "connack" && ack.properties?.maximumPacketSize, 1024);
    c.send({
      cmd: "publish",
      topic: "big/t",
      payload: Buffer.alloc(2000, 0x61),
      qos: 0,
      retain: false,
      dup: false,
    });
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.PacketTooLarge);
    await c.closed;
    // The broker keeps serving other clients.
    const other = await connect5(b.mqttUrl, { clientId: "other" });
    await endClient(other.client);
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 a message larger than the client's Maximum Packet Size is not sent to it [MQTT-3.1.2-25]", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "small", properties: { maximumPacketSize: 200 } });
  const pub = await connect5(b.mqttUrl, { clientId: "small-pub" });
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("mps/t", { qos: 1 });
    await pub.client.publishAsync("mps/t", Buffer.alloc(1000, 0x62), { qos: 1 });
    await pub.client.publishAsync("mps/t", "small-1", { qos: 1 });
    await pub.client.publishAsync("mps/t", Buffer.alloc(1000, 0x62), { qos: 0 });
    await pub.client.publishAsync("mps/t", "small-2", { qos: 0 });
    const ms = await got.next(2);
    assert.deepEqual(
      ms.map((m) => m.payload.toString()),
      ["small-1", "small-2"],
    );
    assert.equal(sub.client.connected, true);
  } finally {
    await endClient(pub.client);
    await endClient(sub.client);
    await b.close();
  }
});

test("v5 an oversized message does not leave behind a topic alias the client never learned", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await rawConnect(b.mqttPort);
  const pub = await connect5(b.mqttUrl, { clientId: "mps-alias-pub" });
  try {
    sub.send(connectPacket("mps-alias", { maximumPacketSize: 200, topicAliasMaximum: 5 }));
    await sub.next("connack");
    sub.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [
        { topic: "mpsa/t", qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    await sub.next("suback");
    await pub.client.publishAsync("mpsa/t", Buffer.alloc(1000, 0x62), { qos: 1 });
    await pub.client.publishAsync("mpsa/t", "small", { qos: 0 });
    const p = (await sub.next("publish")) as PublishPacket;
    assert.equal(p.payload.toString(), "small");
    // The first PUBLISH the client sees for a topic must carry the topic name ([MQTT-3.3.4-?]).
    assert.equal(p.topic, "mpsa/t");
  } finally {
    sub.destroy();
    await endClient(pub.client);
    await b.close();
  }
});

test("v5 a PUBLISH with more than mqtt.maxTopicLevels levels gets DISCONNECT 0x90", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxTopicLevels: 3 } });
  try {
    const c = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "deep" });
    await c.publishAsync("a/b/c", "ok", { qos: 1 });
    const disconnect = new Promise<number | undefined>((resolve) =>
      c.on("disconnect", (p) => resolve(p.reasonCode)),
    );
    c.publish("a/b/c/d", "too deep", { qos: 0 });
    assert.equal(await disconnect, 0x90);
    await endClient(c, true);
  } finally {
    await b.close();
  }
});
