/** Content filters on AMQP 0-9-1 (docs/filters.md): the `x-selector` argument of a binding to amq.topic. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { expectCode, open, take } from "./amqp-client.js";

test("x-selector on an amq.topic binding: only matching MQTT publishes reach the queue", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const { conn, ch } = await open(b.amqpUrl);
  const mqtt = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const { queue } = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(queue, "amq.topic", "sensors.#", {
      "x-selector": "temperature > 30 AND room = 'lab'",
    });
    for (const [t, room] of [
      [25, "lab"],
      [35, "office"],
      [36, "lab"],
    ] as const) {
      await mqtt.publishAsync("sensors/a/temp", JSON.stringify({ temperature: t, room }), { qos: 1 });
    }
    // A header (MQTT 5 user property) counts too, and wins over the payload field.
    await mqtt.publishAsync("sensors/b/temp", JSON.stringify({ temperature: 99 }), {
      qos: 1,
      properties: { userProperties: { room: "lab" } },
    });
    const got = await take(ch, queue, 2);
    assert.deepEqual(
      got.map((m) => JSON.parse(m.content.toString()).temperature),
      [36, 99],
    );
    // Nothing else arrives.
    const more = await ch.get(queue);
    assert.equal(more, false);
  } finally {
    await endClient(mqtt);
    await conn.close();
    await b.close();
  }
});

test("x-selector: a syntax error, a non-string, or a second selector on the same key is 406", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    for (const args of [{ "x-selector": "temperature >" }, { "x-selector": 42 }]) {
      const { conn, ch } = await open(b.amqpUrl);
      const { queue } = await ch.assertQueue("", { exclusive: true });
      await expectCode(ch.bindQueue(queue, "amq.topic", "a.b", args), 406);
      await conn.close().catch(() => {});
    }
    const { conn, ch } = await open(b.amqpUrl);
    await ch.assertQueue("sel-q", { durable: false });
    await ch.bindQueue("sel-q", "amq.topic", "a.b", { "x-selector": "x = 1" });
    await expectCode(ch.bindQueue("sel-q", "amq.topic", "a.b", { "x-selector": "x = 2" }), 406);
    await conn.close().catch(() => {});
  } finally {
    await b.close();
  }
});
