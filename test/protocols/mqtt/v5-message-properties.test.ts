/**
 * MQTT 5 PUBLISH properties end to end (§3.3.2.3): message expiry, subscription identifiers,
 * request/response, user properties, content type and payload format indicator.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PublishPacket } from "../../../src/protocols/mqtt/codec/packets.js";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, delay, endClient } from "../../helpers/mqtt-client.js";
import { connect5, connectPacket, rawConnect } from "./v5-helpers.js";

const persistent = (clientId: string) => ({
  clientId,
  clean: false,
  properties: { sessionExpiryInterval: 300 },
});

test("v5 Message Expiry Interval is forwarded with the time remaining [MQTT-3.3.2-6]", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const sub = await connect5(b.mqttUrl, persistent("exp-sub"));
    await sub.client.subscribeAsync("exp/t", { qos: 1 });
    await endClient(sub.client);
    const pub = await connect5(b.mqttUrl, { clientId: "exp-pub" });
    try {
      await pub.client.publishAsync("exp/t", "later", { qos: 1, properties: { messageExpiryInterval: 10 } });
    } finally {
      await endClient(pub.client);
    }
    await delay(1100);
    let got: ReturnType<typeof collect> | undefined;
    const back = await connect5(b.mqttUrl, persistent("exp-sub"), (c) => {
      got = collect(c);
    });
    try {
      assert.equal(back.connack.sessionPresent, true);
      const [m] = await got!.next(1);
      assert.equal(m!.payload.toString(), "later");
      const left = m!.packet.properties?.messageExpiryInterval;
      assert.equal(typeof left, "number");
      assert.ok(left! <= 9 && left! >= 1, `remaining expiry ${left}`);
    } finally {
      await endClient(back.client);
    }
  } finally {
    await b.close();
  }
});

test("v5 a message that expired while the session was offline is not delivered", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const sub = await connect5(b.mqttUrl, persistent("exp2-sub"));
    await sub.client.subscribeAsync("exp2/t", { qos: 1 });
    await endClient(sub.client);
    const pub = await connect5(b.mqttUrl, { clientId: "exp2-pub" });
    try {
      await pub.client.publishAsync("exp2/t", "stale", { qos: 1, properties: { messageExpiryInterval: 1 } });
      await delay(1200);
      // Queued after the stale one: once it arrives, the stale one would have come first.
      await pub.client.publishAsync("exp2/t", "fresh", { qos: 1 });
    } finally {
      await endClient(pub.client);
    }
    let got: ReturnType<typeof collect> | undefined;
    const back = await connect5(b.mqttUrl, persistent("exp2-sub"), (c) => {
      got = collect(c);
    });
    try {
      await got!.next(1);
      assert.deepEqual(
        got!.messages.map((m) => m.payload.toString()),
        ["fresh"],
      );
    } finally {
      await endClient(back.client);
    }
  } finally {
    await b.close();
  }
});

test("v5 a retained message is sent with its remaining expiry, and not at all once expired", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  const { client: pub } = await connect5(b.mqttUrl, { clientId: "exp3-pub" });
  try {
    await pub.publishAsync("exp3/long", "long", {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 10 },
    });
    await pub.publishAsync("exp3/short", "short", {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    await delay(1100);
    const { client: sub } = await connect5(b.mqttUrl, { clientId: "exp3-sub" });
    try {
      const got = collect(sub);
      await sub.subscribeAsync("exp3/short", { qos: 1 });
      await sub.subscribeAsync("exp3/long", { qos: 1 });
      const [m] = await got.next(1);
      assert.equal(m!.topic, "exp3/long");
      assert.equal(m!.packet.retain, true);
      const left = m!.packet.properties?.messageExpiryInterval;
      assert.ok(left !== undefined && left <= 9 && left >= 1, `remaining expiry ${left}`);
      // The SUBACK for exp3/long came after exp3/short's: anything retained there would be here now.
      assert.equal(got.messages.length, 1);
    } finally {
      await endClient(sub);
    }
  } finally {
    await endClient(pub);
    await b.close();
  }
});

test("v5 Subscription Identifier is sent with matching messages [MQTT-3.3.4-3]", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client } = await connect5(b.mqttUrl, { clientId: "sid" });
    try {
      const got = collect(client);
      await client.subscribeAsync("sid/a", { qos: 1, properties: { subscriptionIdentifier: 7 } });
      await client.subscribeAsync("sid/none", { qos: 1 });
      await client.publishAsync("sid/a", "1", { qos: 1 });
      await client.publishAsync("sid/none", "2", { qos: 1 });
      const [a, none] = await got.next(2);
      assert.equal(a!.topic, "sid/a");
      assert.deepEqual(ids(a!.packet.properties?.subscriptionIdentifier), [7]);
      assert.equal(none!.topic, "sid/none");
      assert.deepEqual(ids(none!.packet.properties?.subscriptionIdentifier), []);
    } finally {
      await endClient(client);
    }
  } finally {
    await b.close();
  }
});

test("v5 overlapping subscriptions carry their own Subscription Identifiers [MQTT-3.3.4-4/5]", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client } = await connect5(b.mqttUrl, { clientId: "sid2" });
    try {
      const got = collect(client);
      await client.subscribeAsync("ov/+", { qos: 1, properties: { subscriptionIdentifier: 7 } });
      await client.subscribeAsync("ov/#", { qos: 1, properties: { subscriptionIdentifier: 9 } });
      await client.publishAsync("ov/x", "p", { qos: 1 });
      // The server may send one message with both identifiers or one per subscription.
      const [first] = await got.next(1);
      const seen = ids(first!.packet.properties?.subscriptionIdentifier);
      if (seen.length < 2) {
        const [, second] = await got.next(2);
        assert.equal(second!.topic, "ov/x");
        seen.push(...ids(second!.packet.properties?.subscriptionIdentifier));
        assert.equal(seen.length, 2, "one identifier per copy");
      }
      assert.deepEqual(
        seen.sort((x, y) => x - y),
        [7, 9],
      );
    } finally {
      await endClient(client);
    }
  } finally {
    await b.close();
  }
});

test("v5 request/response, content type and payload format pass through unchanged", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const sub = await connect5(b.mqttUrl, { clientId: "rr-sub" });
    const pub = await connect5(b.mqttUrl, { clientId: "rr-pub" });
    try {
      const got = collect(sub.client);
      await sub.client.subscribeAsync("req/+", { qos: 1 });
      const correlationData = Buffer.from([0, 1, 2, 0xff, 0xfe]);
      await pub.client.publishAsync("req/1", '{"q":1}', {
        qos: 1,
        properties: {
          responseTopic: "resp/rr-pub",
          correlationData,
          contentType: "application/json; charset=utf-8",
          payloadFormatIndicator: true,
          userProperties: { a: ["1", "3"], b: "2" },
        },
      });
      const [m] = await got.next(1);
      const p = m!.packet.properties!;
      assert.equal(p.responseTopic, "resp/rr-pub");
      assert.ok(Buffer.isBuffer(p.correlationData));
      assert.deepEqual(Buffer.from(p.correlationData!), correlationData);
      assert.equal(p.contentType, "application/json; charset=utf-8");
      assert.equal(p.payloadFormatIndicator, true);
      assert.deepEqual({ ...p.userProperties }, { a: ["1", "3"], b: "2" });
      assert.equal(m!.payload.toString(), '{"q":1}');
    } finally {
      await endClient(pub.client);
      await endClient(sub.client);
    }
  } finally {
    await b.close();
  }
});

test("v5 user properties keep their order and duplicates [MQTT-3.3.2-18]", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const sub = await rawConnect(b.mqttPort);
  const pub = await rawConnect(b.mqttPort);
  try {
    sub.send(connectPacket("up-sub"));
    assert.equal((await sub.next("connack")).cmd, "connack");
    sub.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [{ topic: "up/t", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    });
    await sub.next("suback");
    pub.send(connectPacket("up-pub"));
    await pub.next("connack");
    const userProperties: Array<[string, string]> = [
      ["z", "1"],
      ["a", "2"],
      ["z", "3"],
      ["z", "1"],
    ];
    pub.send({
      cmd: "publish",
      topic: "up/t",
      payload: Buffer.from("u"),
      qos: 0,
      retain: false,
      dup: false,
      properties: { userProperties },
    });
    const m = (await sub.next("publish")) as PublishPacket;
    assert.deepEqual(m.properties?.userProperties, userProperties);
  } finally {
    sub.destroy();
    pub.destroy();
    await b.close();
  }
});

const INVALID_UTF8 = Buffer.from([0x61, 0xc3, 0x28, 0xff]);

test("v5 PUBLISH QoS 1 with payload format 1 and invalid UTF-8 gets PUBACK 0x99", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("pfi1"));
    await c.next("connack");
    c.send({
      cmd: "publish",
      topic: "pfi/t",
      payload: INVALID_UTF8,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 5,
      properties: { payloadFormatIndicator: 1 },
    });
    const ack = await c.next("puback");
    assert.equal(ack.cmd === "puback" && ack.packetId, 5);
    assert.equal(ack.cmd === "puback" && ack.reasonCode, ReasonCode.PayloadFormatInvalid);
    // The connection stays usable.
    c.send({ cmd: "pingreq" });
    await c.next("pingresp");
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 PUBLISH QoS 0 with payload format 1 and invalid UTF-8 gets DISCONNECT 0x99", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("pfi0"));
    await c.next("connack");
    c.send({
      cmd: "publish",
      topic: "pfi/t",
      payload: INVALID_UTF8,
      qos: 0,
      retain: false,
      dup: false,
      properties: { payloadFormatIndicator: 1 },
    });
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.PayloadFormatInvalid);
    await c.closed;
  } finally {
    c.destroy();
    await b.close();
  }
});

function ids(v: number | number[] | undefined): number[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...v] : [v];
}

test("v5 a Response Topic with a wildcard is a protocol error [MQTT-3.3.2-14]", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "bad-response-topic" });
    const disconnect = new Promise<number | undefined>((resolve) =>
      c.on("disconnect", (p) => resolve(p.reasonCode)),
    );
    c.publish("req/x", "q", { qos: 0, properties: { responseTopic: "replies/#" } });
    assert.equal(await disconnect, 0x82);
    await endClient(c, true);
  } finally {
    await b.close();
  }
});
