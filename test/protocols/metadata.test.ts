/**
 * The metadata mapping (docs/metadata.md), one test per row, between the protocols of this tree:
 * MQTT 5 (MQTT.js) ⇄ STOMP (@stomp/stompjs), MQTT 5 → MQTT 3.1.1, and WAMP (autobahn) where the
 * row means something to it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client, IMessage } from "@stomp/stompjs";
import type { IPublishPacket, MqttClient } from "mqtt";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs, withTimeout } from "../helpers/stomp-clients.js";
import { type AutobahnClient, delay, joinAutobahn, VARIANTS } from "../helpers/wamp.js";

const T = { timeout: 20_000 };

describe("metadata mapping between MQTT 5, MQTT 3.1.1, STOMP and WAMP", () => {
  let b: TestBroker;
  let m5: MqttClient;
  let m3: MqttClient;
  let stomp: Client;
  let n = 0;

  before(async () => {
    b = await startTestBroker();
    m5 = await connect(b.mqttUrl, { protocolVersion: 5 });
    m3 = await connect(b.mqttUrl, { protocolVersion: 4 });
    stomp = await stompjs({ tcp: b.stompPort });
  });
  after(async () => {
    await stomp.deactivate();
    await Promise.all([endClient(m5, true), endClient(m3, true)]);
    await b.close();
  });

  /** Publishes from MQTT 5 and returns what a STOMP and an MQTT 3.1.1 subscriber receive. */
  async function fromMqtt5(opts: Parameters<MqttClient["publishAsync"]>[2]) {
    const topic = `meta/m5/${++n}`;
    const stompGot = new Promise<IMessage>((resolve) => {
      const sub = stomp.subscribe(`/topic/meta.m5.${n}`, (m) => {
        sub.unsubscribe();
        resolve(m);
      });
    });
    const m3Got = nextMessage(m3, topic);
    await m3.subscribeAsync(topic, { qos: 1 });
    await delay(100);
    await m5.publishAsync(topic, "x", opts);
    return {
      stomp: await withTimeout(stompGot, 5000, "STOMP message"),
      v3: await withTimeout(m3Got, 5000, "MQTT 3.1.1 message"),
    };
  }

  /** Sends from STOMP and returns what an MQTT 5 subscriber receives. */
  async function fromStomp(headers: Record<string, string>): Promise<IPublishPacket> {
    const topic = `meta/st/${++n}`;
    await m5.subscribeAsync(topic, { qos: 1 });
    const got = nextMessage(m5, topic);
    stomp.publish({ destination: `/topic/meta.st.${n}`, body: "x", headers });
    return withTimeout(got, 5000, "MQTT 5 message");
  }

  test("content type: MQTT 5 Content Type ⇄ STOMP content-type; dropped for MQTT 3.1.1", T, async () => {
    const r = await fromMqtt5({ qos: 0, properties: { contentType: "text/csv" } });
    assert.equal(r.stomp.headers["content-type"], "text/csv");
    assert.equal(r.v3.properties, undefined);
    const p = await fromStomp({ "content-type": "application/cbor" });
    assert.equal(p.properties?.contentType, "application/cbor");
  });

  test(
    "correlation id: MQTT 5 Correlation Data ⇄ STOMP correlation-id (non-UTF-8 bytes as base64:, and back)",
    T,
    async () => {
      const r = await fromMqtt5({ qos: 0, properties: { correlationData: Buffer.from("req-7") } });
      assert.equal(r.stomp.headers["correlation-id"], "req-7");
      const bin = await fromMqtt5({ qos: 0, properties: { correlationData: Buffer.from([0xff, 1]) } });
      assert.equal(bin.stomp.headers["correlation-id"], "base64:/wE=");
      const p = await fromStomp({ "correlation-id": "req-8" });
      assert.deepEqual(p.properties?.correlationData, Buffer.from("req-8"));
      // A responder echoing the base64: form gives an MQTT 5 requester its own bytes back.
      const echoed = await fromStomp({ "correlation-id": bin.stomp.headers["correlation-id"]! });
      assert.deepEqual(echoed.properties?.correlationData, Buffer.from([0xff, 1]));
    },
  );

  test("reply-to: MQTT 5 Response Topic ⇄ STOMP reply-to (/topic/ with . for /)", T, async () => {
    const r = await fromMqtt5({ qos: 0, properties: { responseTopic: "replies/dev1" } });
    assert.equal(r.stomp.headers["reply-to"], "/topic/replies.dev1");
    const p = await fromStomp({ "reply-to": "/topic/answers.d2" });
    assert.equal(p.properties?.responseTopic, "answers/d2");
  });

  test(
    "message id: STOMP message-id is per delivery; MQTT packet ids are per hop (not carried)",
    T,
    async () => {
      const r = await fromMqtt5({ qos: 1 });
      assert.match(r.stomp.headers["message-id"] ?? "", /.+/);
      const p = await fromStomp({});
      assert.equal(p.properties?.userProperties?.["message-id"], undefined);
    },
  );

  test("user properties: MQTT 5 User Properties ⇄ STOMP custom headers", T, async () => {
    const r = await fromMqtt5({ qos: 0, properties: { userProperties: { room: "lab", unit: "C" } } });
    assert.equal(r.stomp.headers.room, "lab");
    assert.equal(r.stomp.headers.unit, "C");
    const p = await fromStomp({ site: "north" });
    assert.deepEqual({ ...p.properties?.userProperties }, { site: "north" });
  });

  test(
    "expiry: MQTT 5 Message Expiry Interval (s) ⇄ STOMP expires (absolute ms) / expiration (ms)",
    T,
    async () => {
      const before = Date.now();
      const r = await fromMqtt5({ qos: 0, properties: { messageExpiryInterval: 60 } });
      const at = Number(r.stomp.headers.expires);
      assert.ok(at >= before + 59_000 && at <= Date.now() + 60_000, `expires ${at}`);
      const p = await fromStomp({ expiration: "30000" });
      const left = p.properties?.messageExpiryInterval ?? 0;
      assert.ok(left > 0 && left <= 30, `expiry interval ${left}`);
    },
  );

  test("persistent / QoS: MQTT QoS 1 ⇄ STOMP persistent:true", T, async () => {
    const r = await fromMqtt5({ qos: 1 });
    assert.equal(r.stomp.headers.persistent, "true");
    assert.equal(r.v3.qos, 1);
    const p = await fromStomp({ persistent: "true" });
    assert.equal(p.qos, 1);
    const q0 = await fromStomp({});
    assert.equal(q0.qos, 0);
  });

  test("WAMP: content type decides the event arguments (JSON → value, text → string)", T, async () => {
    const w: AutobahnClient = await joinAutobahn(b, VARIANTS[0]!);
    try {
      const got: unknown[] = [];
      await w.session.subscribe("meta.wamp", (args: unknown[]) => got.push(args[0]));
      await m5.publishAsync("meta/wamp", '{"t":1}', {
        qos: 1,
        properties: { contentType: "application/json" },
      });
      await m5.publishAsync("meta/wamp", '{"t":1}', { qos: 1, properties: { contentType: "text/plain" } });
      const end = Date.now() + 5000;
      while (got.length < 2 && Date.now() < end) await delay(10);
      assert.deepEqual(got, [{ t: 1 }, '{"t":1}']);
    } finally {
      await w.close();
    }
  });
});

function nextMessage(client: MqttClient, topic: string): Promise<IPublishPacket> {
  return new Promise((resolve) => {
    const on = (t: string, _p: Buffer, packet: IPublishPacket) => {
      if (t !== topic) return;
      client.off("message", on);
      resolve(packet);
    };
    client.on("message", on);
  });
}
