/** MQTT 5 Topic Aliases in both directions (§3.3.2.3.4). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PublishPacket } from "../../../src/protocols/mqtt/codec/packets.js";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, endClient } from "../../helpers/mqtt-client.js";
import { connect5, connectPacket, rawConnect } from "./v5-helpers.js";

const publish = (topic: string, payload: string, topicAlias?: number): PublishPacket => ({
  cmd: "publish",
  topic,
  payload: Buffer.from(payload),
  qos: 0,
  retain: false,
  dup: false,
  properties: topicAlias === undefined ? undefined : { topicAlias },
});

test("v5 client -> broker topic alias (raw): set with a topic, then used with an empty topic", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "ta-sub" });
  const pub = await rawConnect(b.mqttPort);
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("alias/#", { qos: 0 });
    pub.send(connectPacket("ta-pub"));
    await pub.next("connack");
    pub.send(publish("alias/one", "1", 3));
    pub.send(publish("", "2", 3));
    pub.send(publish("alias/two", "3", 4));
    pub.send(publish("", "4", 4));
    pub.send(publish("", "5", 3));
    // Re-mapping an alias to another topic ([MQTT-3.3.2-12]).
    pub.send(publish("alias/three", "6", 3));
    pub.send(publish("", "7", 3));
    const ms = await got.next(7);
    assert.deepEqual(
      ms.map((m) => [m.topic, m.payload.toString()]),
      [
        ["alias/one", "1"],
        ["alias/one", "2"],
        ["alias/two", "3"],
        ["alias/two", "4"],
        ["alias/one", "5"],
        ["alias/three", "6"],
        ["alias/three", "7"],
      ],
    );
    // The alias property is between client and broker: not forwarded to a client without aliases.
    assert.equal(ms[1]!.packet.properties?.topicAlias, undefined);
  } finally {
    pub.destroy();
    await endClient(sub.client);
    await b.close();
  }
});

test("v5 client -> broker topic alias with MQTT.js publish properties", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "ta-sub2" });
  const pub = await connect5(b.mqttUrl, { clientId: "ta-pub2" });
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("mq/alias", { qos: 1 });
    await pub.client.publishAsync("mq/alias", "first", { qos: 1, properties: { topicAlias: 1 } });
    await pub.client.publishAsync("", "second", { qos: 1, properties: { topicAlias: 1 } });
    const [a, c] = await got.next(2);
    assert.equal(a!.topic, "mq/alias");
    assert.equal(c!.topic, "mq/alias");
    assert.equal(c!.payload.toString(), "second");
  } finally {
    await endClient(pub.client);
    await endClient(sub.client);
    await b.close();
  }
});

test("v5 unknown topic alias or alias above the maximum closes with DISCONNECT", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxTopicAlias: 5 } });
  const c1 = await rawConnect(b.mqttPort);
  const c2 = await rawConnect(b.mqttPort);
  try {
    c1.send(connectPacket("ta-bad1"));
    await c1.next("connack");
    c1.send(publish("", "x", 2));
    const d1 = await c1.next("disconnect");
    assert.equal(d1.cmd === "disconnect" && d1.reasonCode, ReasonCode.ProtocolError);
    await c1.closed;

    c2.send(connectPacket("ta-bad2"));
    await c2.next("connack");
    c2.send(publish("t", "x", 6));
    const d2 = await c2.next("disconnect");
    assert.equal(d2.cmd === "disconnect" && d2.reasonCode, ReasonCode.TopicAliasInvalid);
    await c2.closed;
  } finally {
    c1.destroy();
    c2.destroy();
    await b.close();
  }
});

test("v5 broker -> client topic aliases within the client's Topic Alias Maximum", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "ta-out", properties: { topicAliasMaximum: 5 } });
  const pub = await connect5(b.mqttUrl, { clientId: "ta-out-pub" });
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("out/#", { qos: 1 });
    for (const [t, p] of [
      ["out/a", "1"],
      ["out/a", "2"],
      ["out/a", "3"],
    ] as const) {
      await pub.client.publishAsync(t, p, { qos: 1 });
    }
    await pub.client.publishAsync("out/b", "4", { qos: 0 });
    await pub.client.publishAsync("out/b", "5", { qos: 0 });
    const ms = await got.next(5);
    // MQTT.js resolves the alias: the topic is always right.
    assert.deepEqual(
      ms.map((m) => [m.topic, m.payload.toString()]),
      [
        ["out/a", "1"],
        ["out/a", "2"],
        ["out/a", "3"],
        ["out/b", "4"],
        ["out/b", "5"],
      ],
    );
    const aliasA = ms[0]!.packet.properties?.topicAlias;
    const aliasB = ms[3]!.packet.properties?.topicAlias;
    assert.ok(aliasA !== undefined && aliasA >= 1 && aliasA <= 5, `alias ${aliasA}`);
    assert.equal(ms[1]!.packet.properties?.topicAlias, aliasA);
    assert.equal(ms[2]!.packet.properties?.topicAlias, aliasA);
    assert.ok(aliasB !== undefined && aliasB >= 1 && aliasB <= 5 && aliasB !== aliasA);
    assert.equal(ms[4]!.packet.properties?.topicAlias, aliasB);
  } finally {
    await endClient(pub.client);
    await endClient(sub.client);
    await b.close();
  }
});

test("v5 broker -> client: a repeated topic is sent with an empty topic and the alias (raw)", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await rawConnect(b.mqttPort);
  const pub = await connect5(b.mqttUrl, { clientId: "ta-raw-pub" });
  try {
    sub.send(connectPacket("ta-raw", { topicAliasMaximum: 1 }));
    await sub.next("connack");
    sub.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [
        { topic: "raw/+", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    await sub.next("suback");
    for (const t of ["raw/a", "raw/a", "raw/b", "raw/b"]) await pub.client.publishAsync(t, t, { qos: 1 });
    const ps: PublishPacket[] = [];
    for (let i = 0; i < 4; i++) ps.push((await sub.next("publish")) as PublishPacket);
    assert.deepEqual(
      ps.map((p) => [p.topic, p.properties?.topicAlias, p.payload.toString()]),
      [
        ["raw/a", 1, "raw/a"],
        ["", 1, "raw/a"],
        // The only alias is taken: other topics go out in full, without an alias.
        ["raw/b", undefined, "raw/b"],
        ["raw/b", undefined, "raw/b"],
      ],
    );
  } finally {
    sub.destroy();
    await endClient(pub.client);
    await b.close();
  }
});

test("v5 no topic alias towards a client that did not announce a Topic Alias Maximum", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const sub = await connect5(b.mqttUrl, { clientId: "ta-none" });
  try {
    const got = collect(sub.client);
    await sub.client.subscribeAsync("none/t", { qos: 1 });
    await sub.client.publishAsync("none/t", "1", { qos: 1 });
    await sub.client.publishAsync("none/t", "2", { qos: 1 });
    const ms = await got.next(2);
    for (const m of ms) assert.equal(m.packet.properties?.topicAlias, undefined);
  } finally {
    await endClient(sub.client);
    await b.close();
  }
});
