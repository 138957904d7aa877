/**
 * AMQP 1.0 shares the topic space and the named queues with MQTT and AMQP 0-9-1 (DESIGN.md): rhea,
 * MQTT.js and amqplib talk to each other, with the common properties mapped as docs/amqp10.md says.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { collect, connect as mqttConnect } from "../../helpers/mqtt-client.js";
import { open, take } from "../amqp091/amqp-client.js";
import { closeConn, connect, type RheaConnection, receiver, send, sender } from "./client.js";

let b: TestBroker;
let conn: RheaConnection;
before(async () => {
  b = await startTestBroker();
  conn = await connect(b.amqpPort);
});
after(async () => {
  await closeConn(conn);
  await b.close();
});

test("AMQP 1.0 -> MQTT 5: topic, payload and properties mapped", { timeout: 10_000 }, async () => {
  const mq = await mqttConnect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const got = collect(mq);
    await mq.subscribeAsync("sensors/+/temp", { qos: 1 });
    const s = await sender(conn, "/topic/sensors.k1.temp");
    await send(s, {
      body: "21.5",
      durable: true,
      ttl: 60_000,
      content_type: "text/plain",
      correlation_id: "corr-1",
      reply_to: "/topic/replies.k1",
      message_id: "id-7",
      subject: "temperature",
      application_properties: { unit: "C", n: 3 },
    });
    const [m] = await got.next(1);
    assert.equal(m!.topic, "sensors/k1/temp");
    assert.equal(m!.payload.toString(), "21.5");
    const p = m!.packet.properties!;
    assert.equal(m!.packet.qos, 1, "durable is QoS 1");
    assert.equal(p.contentType, "text/plain");
    assert.equal(Buffer.from(p.correlationData!).toString(), "corr-1");
    assert.equal(p.responseTopic, "replies/k1");
    assert.ok(p.messageExpiryInterval! > 55 && p.messageExpiryInterval! <= 60);
    const up = p.userProperties as Record<string, string>;
    assert.equal(up.unit, "C");
    assert.equal(up.n, "3");
    assert.equal(up["message-id"], "id-7");
    assert.equal(up.subject, "temperature");
    s.close();
  } finally {
    await mq.endAsync();
  }
});

test("MQTT 5 -> AMQP 1.0: sections made from the properties, x-routing-key for wildcards", {
  timeout: 10_000,
}, async () => {
  const inbox = await receiver(conn, "/topic/plant.#");
  const mq = await mqttConnect(b.mqttUrl, { protocolVersion: 5 });
  try {
    await mq.publishAsync("plant/a/b", "payload", {
      qos: 1,
      properties: {
        contentType: "application/json",
        correlationData: Buffer.from("c9"),
        responseTopic: "back/here",
        userProperties: { k: "v" },
        messageExpiryInterval: 30,
      },
    });
    const [m] = await inbox.take(1);
    const msg = m!.message;
    assert.equal((msg.body as { content: Buffer }).content.toString(), "payload");
    assert.equal(msg.content_type, "application/json");
    assert.equal(msg.correlation_id, "c9");
    assert.equal(msg.reply_to, "/topic/back.here");
    assert.equal(msg.durable, true);
    assert.ok(msg.ttl! > 25_000 && msg.ttl! <= 30_000);
    assert.equal(msg.application_properties?.k, "v");
    assert.equal(msg.message_annotations?.["x-routing-key"], "plant.a.b");
  } finally {
    await mq.endAsync();
    inbox.receiver.close();
  }
});

test("amqplib (0-9-1) and rhea (1.0) share queues and amq.topic both ways", { timeout: 10_000 }, async () => {
  const { conn: c091, ch } = await open(b.amqpUrl);
  try {
    await ch.assertQueue("shared-q", { durable: true });
    const s = await sender(conn, "/queue/shared-q");
    await send(s, { body: "from 1.0", content_type: "text/plain", application_properties: { h: "x" } });
    const [m] = await take(ch, "shared-q", 1, { noAck: true });
    assert.equal(m!.content.toString(), "from 1.0");
    assert.equal(m!.properties.contentType, "text/plain");
    assert.equal(m!.properties.headers?.h, "x");

    const inbox = await receiver(conn, "/exchanges/amq.topic/orders.*");
    ch.publish("amq.topic", "orders.new", Buffer.from("from 0-9-1"), {
      correlationId: "k",
      headers: { a: 1 },
    });
    const [r] = await inbox.take(1);
    assert.equal((r!.message.body as { content: Buffer }).content.toString(), "from 0-9-1");
    assert.equal(r!.message.correlation_id, "k");
    assert.equal(r!.message.application_properties?.a, "1");
    inbox.receiver.close();
    s.close();
  } finally {
    await c091.close();
  }
});

test("between AMQP 1.0 clients the bare message travels unchanged (typed properties, amqp-value body)", {
  timeout: 10_000,
}, async () => {
  const inbox = await receiver(conn, "/queue/exact");
  const s = await sender(conn, "/queue/exact");
  const body = { list: [1, "two"], nested: { x: true } };
  await send(s, { body, message_id: 42, application_properties: { i: 5, b: false, s: "t" }, group_id: "g" });
  const [m] = await inbox.take(1);
  assert.deepEqual(m!.message.body, body);
  assert.equal(m!.message.message_id, 42);
  assert.deepEqual(m!.message.application_properties, { i: 5, b: false, s: "t" });
  assert.equal(m!.message.group_id, "g");
  inbox.receiver.close();
  s.close();
});
