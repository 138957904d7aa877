/**
 * Content filters per protocol (docs/filters.md) with real clients: MQTT 5 subscription user
 * property `filter` (MQTT.js), STOMP `selector` header (@stomp/stompjs), WAMP subscribe option
 * `filter` (autobahn); a selector that does not parse is refused at subscribe time in each
 * protocol's own form.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { IMessage } from "@stomp/stompjs";
import type { MqttClient } from "mqtt";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs, withTimeout } from "../helpers/stomp-clients.js";
import { type AutobahnClient, delay, joinAutobahn, until, VARIANTS } from "../helpers/wamp.js";

const T = { timeout: 30_000 };
const FILTER = "temperature > 30 AND room = 'lab'";
const READINGS = [
  { temperature: 35, room: "lab" },
  { temperature: 20, room: "lab" },
  { temperature: 50, room: "office" },
  { temperature: 31, room: "lab" },
];

describe("content filters across protocols", () => {
  let b: TestBroker;
  let pub: MqttClient;
  before(async () => {
    b = await startTestBroker();
    pub = await connect(b.mqttUrl, { protocolVersion: 5 });
  });
  after(async () => {
    await endClient(pub, true);
    await b.close();
  });

  async function publishAll(topic: string): Promise<void> {
    for (const r of READINGS) {
      await pub.publishAsync(topic, JSON.stringify(r), {
        qos: 1,
        properties: { contentType: "application/json" },
      });
    }
  }

  test("MQTT 5: SUBSCRIBE user property filter selects by JSON fields", T, async () => {
    const sub = await connect(b.mqttUrl, { protocolVersion: 5 });
    const got: number[] = [];
    sub.on("message", (_t, p) => got.push((JSON.parse(p.toString()) as { temperature: number }).temperature));
    await sub.subscribeAsync("f/mqtt/#", { qos: 1, properties: { userProperties: { filter: FILTER } } });
    await publishAll("f/mqtt/x");
    await until(() => got.length >= 2, "two selected messages");
    await delay(100);
    assert.deepEqual(got, [35, 31]);
    await endClient(sub, true);
  });

  test(
    "MQTT 5: a filter that does not parse is refused with SUBACK 0x83 and a reason string",
    T,
    async () => {
      const sub = await connect(b.mqttUrl, { protocolVersion: 5 });
      await assert.rejects(
        sub.subscribeAsync("f/mqtt/#", {
          qos: 1,
          properties: { userProperties: { filter: "temperature >" } },
        }),
        (e: { packet: { granted: number[]; properties?: { reasonString?: string } } }) => {
          assert.deepEqual(e.packet.granted, [0x83]);
          assert.match(e.packet.properties?.reasonString ?? "", /invalid filter/);
          return true;
        },
      );
      await endClient(sub, true);
    },
  );

  test("STOMP: the selector header; a bad one is an ERROR frame", T, async () => {
    const s = await stompjs({ tcp: b.stompPort });
    const got: IMessage[] = [];
    s.subscribe("/topic/f.stomp.#", (m) => got.push(m), { selector: FILTER });
    const plain: IMessage[] = [];
    s.subscribe("/topic/f.stomp.#", (m) => plain.push(m));
    await delay(200);
    await publishAll("f/stomp/x");
    await until(() => plain.length === 4, "every message on the plain subscription");
    await delay(100);
    assert.deepEqual(
      got.map((m) => (JSON.parse(m.body) as { temperature: number }).temperature),
      [35, 31],
    );
    await s.deactivate();

    const bad = await stompjs({ tcp: b.stompPort });
    const err = new Promise<{ message: string; body: string }>((resolve) => {
      bad.onStompError = (f) => resolve({ message: f.headers.message ?? "", body: f.body });
    });
    bad.subscribe("/topic/f.stomp.#", () => {}, { selector: "room = " });
    const e = await withTimeout(err, 5000, "ERROR frame");
    assert.equal(e.message, "invalid selector");
    await bad.deactivate();
  });

  test(
    "STOMP: a selector on a /queue/ subscription; unselected messages stay for other consumers",
    T,
    async () => {
      const s = await stompjs({ tcp: b.stompPort });
      for (const r of READINGS) {
        await new Promise<void>((resolve) => {
          const receipt = `r-${r.temperature}`;
          s.watchForReceipt(receipt, () => resolve());
          s.publish({ destination: "/queue/f-sel", body: JSON.stringify(r), headers: { receipt } });
        });
      }
      const got: IMessage[] = [];
      s.subscribe("/queue/f-sel", (m) => got.push(m), { selector: FILTER });
      await until(() => got.length === 2, "the two selected readings");
      await delay(100);
      assert.deepEqual(
        got.map((m) => (JSON.parse(m.body) as { temperature: number }).temperature),
        [35, 31],
      );
      const rest: IMessage[] = [];
      s.subscribe("/queue/f-sel", (m) => rest.push(m));
      await until(() => rest.length === 2, "the other two, for a consumer without a selector");
      assert.deepEqual(
        rest.map((m) => (JSON.parse(m.body) as { temperature: number }).temperature),
        [20, 50],
      );
      await s.deactivate();
    },
  );

  test("STOMP: a durable subscription keeps its selector while the subscriber is away", T, async () => {
    const headers = { durable: "true", id: "d1", selector: FILTER };
    const first = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dur-f" } });
    first.subscribe("/topic/f.durable", () => {}, headers);
    await delay(200);
    await first.deactivate();
    await publishAll("f/durable");
    const again = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dur-f" } });
    const got: number[] = [];
    again.subscribe(
      "/topic/f.durable",
      (m) => got.push((JSON.parse(m.body) as { temperature: number }).temperature),
      headers,
    );
    await until(() => got.length >= 2, "the two selected messages kept for it");
    await delay(100);
    assert.deepEqual(got, [35, 31]);
    await again.deactivate();
  });

  test("WAMP: subscribe option filter; a bad one is ERROR wamp.error.invalid_argument", T, async () => {
    const w: AutobahnClient = await joinAutobahn(b, VARIANTS[0]!);
    try {
      const got: number[] = [];
      await w.session.subscribe(
        "f.wamp",
        (args: Array<{ temperature: number }>) => got.push(args[0]!.temperature),
        {
          filter: FILTER,
        },
      );
      await publishAll("f/wamp");
      await until(() => got.length >= 2, "two selected events");
      await delay(100);
      assert.deepEqual(got, [35, 31]);
      await assert.rejects(
        w.session.subscribe("f.wamp2", () => {}, { filter: "a IN (" }),
        (e: { error: string }) => {
          assert.equal(e.error, "wamp.error.invalid_argument");
          return true;
        },
      );
    } finally {
      await w.close();
    }
  });
});
