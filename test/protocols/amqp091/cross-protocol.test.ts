/**
 * amq.topic IS the shared topic space (DESIGN.md): MQTT.js and amqplib talk through it both ways,
 * with the common message properties mapped as docs/amqp.md says.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type amqp from "amqplib";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { collect, connect } from "../../helpers/mqtt-client.js";
import { type Conn, open, take } from "./amqp-client.js";

let b: TestBroker;
let conn: Conn;
let ch: amqp.Channel;
before(async () => {
  b = await startTestBroker();
  ({ conn, ch } = await open(b.amqpUrl));
});
after(async () => {
  await conn.close();
  await b.close();
});

test("MQTT publish to sensors/x/temp reaches a queue bound to amq.topic with sensors.*.temp", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "amq.topic", "sensors.*.temp");
  const mq = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    await mq.publishAsync("sensors/x/temp", "21.5", {
      qos: 1,
      properties: {
        contentType: "text/plain",
        correlationData: Buffer.from("corr"),
        responseTopic: "replies/x",
        userProperties: { unit: "C" },
        messageExpiryInterval: 60,
      },
    });
    await mq.publishAsync("sensors/x/humidity", "40", { qos: 1 });
    const [m] = await take(ch, queue, 1, { noAck: true });
    assert.equal(m!.content.toString(), "21.5");
    assert.equal(m!.fields.exchange, "amq.topic");
    assert.equal(m!.fields.routingKey, "sensors.x.temp");
    const p = m!.properties;
    assert.equal(p.contentType, "text/plain");
    assert.equal(p.correlationId, "corr");
    assert.equal(p.replyTo, "replies.x");
    assert.equal(p.headers?.unit, "C");
    assert.equal(p.deliveryMode, 2, "QoS 1 is persistent");
    assert.ok(Number(p.expiration) > 50_000 && Number(p.expiration) <= 60_000);
    assert.equal((await ch.checkQueue(queue)).messageCount, 0, "humidity did not match");
  } finally {
    await mq.endAsync();
  }
});

test("AMQP publish to amq.topic reaches MQTT subscribers, properties mapped", {
  timeout: 10_000,
}, async () => {
  const mq = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const got = collect(mq);
    await mq.subscribeAsync("alerts/#", { qos: 1 });
    ch.publish("amq.topic", "alerts.room1.smoke", Buffer.from("ALARM"), {
      contentType: "text/plain",
      correlationId: "c-9",
      replyTo: "ops.ack",
      headers: { severity: "high" },
      messageId: "m-9",
      persistent: true,
    });
    const [r] = await got.next(1);
    assert.equal(r!.topic, "alerts/room1/smoke");
    assert.equal(r!.payload.toString(), "ALARM");
    assert.equal(r!.packet.qos, 1);
    const p = r!.packet.properties!;
    assert.equal(p.contentType, "text/plain");
    assert.equal(Buffer.from(p.correlationData!).toString(), "c-9");
    assert.equal(p.responseTopic, "ops/ack");
    assert.equal((p.userProperties as Record<string, string>).severity, "high");
    assert.equal((p.userProperties as Record<string, string>)["message-id"], "m-9");
  } finally {
    await mq.endAsync();
  }
});

test("a message from another protocol arrives with the router's timestamp; an AMQP publisher's own is kept", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "amq.topic", "stamped.*");
  const mq = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const before = Math.floor(Date.now() / 1000);
    await mq.publishAsync("stamped/mqtt", "x", { qos: 1 });
    const after = Math.ceil(Date.now() / 1000);
    ch.publish("amq.topic", "stamped.amqp", Buffer.from("y"), { timestamp: 1_700_000_000 });
    const [fromMqtt, fromAmqp] = await take(ch, queue, 2, { noAck: true });
    const t = fromMqtt!.properties.timestamp as number;
    assert.ok(t >= before && t <= after, `timestamp ${t} (published ${before}..${after}, in seconds)`);
    assert.equal(fromAmqp!.properties.timestamp, 1_700_000_000);
  } finally {
    await mq.endAsync();
  }
});

test("MQTT 5 correlation data that is not UTF-8 reaches AMQP as base64:…, so two ids stay two", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "amq.topic", "corr.*");
  const mq = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    for (const [i, first] of [0xff, 0xfe].entries())
      await mq.publishAsync(`corr/m${i}`, "x", {
        qos: 1,
        properties: { correlationData: Buffer.from([first, 0x00, 0x01]) },
      });
    await mq.publishAsync("corr/text", "x", { qos: 1, properties: { correlationData: Buffer.from("ü-1") } });
    const got = await take(ch, queue, 3, { noAck: true });
    assert.deepEqual(
      got.map((m) => m.properties.correlationId),
      ["base64:/wAB", "base64:/gAB", "ü-1"],
    );
  } finally {
    await mq.endAsync();
  }
});

test("an AMQP responder echoing a base64:… correlation id gives the MQTT 5 requester its own bytes back", {
  timeout: 10_000,
}, async () => {
  const mq = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const inbox = collect(mq);
    await mq.subscribeAsync("corr-reply/#", { qos: 1 });
    ch.publish("amq.topic", "corr-reply.r1", Buffer.from("answer"), { correlationId: "base64:/wAB" });
    const [reply] = await inbox.next(1, 5000);
    assert.deepEqual(reply!.packet.properties?.correlationData, Buffer.from([0xff, 0x00, 0x01]));
  } finally {
    await mq.endAsync();
  }
});

test("a queue bound twice with overlapping keys gets each message once", { timeout: 10_000 }, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "amq.topic", "dup.#");
  await ch.bindQueue(queue, "amq.topic", "dup.*");
  const mq = await connect(b.mqttUrl);
  try {
    await mq.publishAsync("dup/one", "1", { qos: 1 });
    await mq.publishAsync("dup/two", "2", { qos: 1 });
    const got = await take(ch, queue, 2, { noAck: true });
    assert.deepEqual(
      got.map((m) => m.content.toString()),
      ["1", "2"],
    );
    assert.equal((await ch.checkQueue(queue)).messageCount, 0);
  } finally {
    await mq.endAsync();
  }
});

test("unbinding from amq.topic unsubscribes; an exchange bound to amq.topic routes onwards", {
  timeout: 10_000,
}, async () => {
  await ch.assertExchange("from-topic", "fanout", { durable: false });
  await ch.bindExchange("from-topic", "amq.topic", "plant.#");
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "from-topic", "");
  const mq = await connect(b.mqttUrl);
  try {
    await mq.publishAsync("plant/line1/speed", "9", { qos: 1 });
    const [m] = await take(ch, queue, 1, { noAck: true });
    assert.equal(m!.fields.routingKey, "plant.line1.speed");
    await ch.unbindExchange("from-topic", "amq.topic", "plant.#");
    await mq.publishAsync("plant/line1/speed", "10", { qos: 1 });
    await ch.checkQueue(queue);
    assert.equal((await ch.checkQueue(queue)).messageCount, 0);
  } finally {
    await mq.endAsync();
  }
});

test("'#' in the middle of an amq.topic binding key is refused with 406 (the shared space is MQTT's)", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("mid-hash", { exclusive: false });
  const c2 = await conn.createChannel();
  c2.on("error", () => {});
  await assert.rejects(c2.bindQueue(queue, "amq.topic", "a.#.b"), /406/);
  await ch.deleteQueue(queue);
});

test("RPC across protocols: an AMQP requester with direct reply-to, an MQTT 5 responder", {
  timeout: 10_000,
}, async () => {
  const responder = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    await responder.subscribeAsync("rpc/square", { qos: 1 });
    responder.on("message", (_topic, payload, packet) => {
      const p = packet.properties!;
      void responder.publishAsync(p.responseTopic!, String(Number(payload.toString()) ** 2), {
        qos: 1,
        properties: { correlationData: p.correlationData },
      });
    });
    const requester = await open(b.amqpUrl);
    const replies: Array<[string | undefined, string]> = [];
    await requester.ch.consume(
      "amq.rabbitmq.reply-to",
      (m) => m && replies.push([m.properties.correlationId, m.content.toString()]),
      {
        noAck: true,
      },
    );
    requester.ch.publish("amq.topic", "rpc.square", Buffer.from("7"), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "sq-7",
    });
    const { until } = await import("./amqp-client.js");
    await until(() => replies.length === 1);
    assert.deepEqual(replies, [["sq-7", "49"]]);
    await requester.conn.close();
  } finally {
    await responder.endAsync();
  }
});

test("a routing key that is no valid topic name does not enter the shared space (mandatory returns it)", {
  timeout: 10_000,
}, async () => {
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "amq.topic", "#");
  const returned: string[] = [];
  ch.on("return", (m) => returned.push(m.fields.routingKey));
  ch.publish("amq.topic", "", Buffer.from("empty"), { mandatory: true });
  ch.publish("amq.topic", "a.+", Buffer.from("plus"), { mandatory: true });
  ch.publish("amq.topic", "fine.key", Buffer.from("ok"), { mandatory: true });
  const [m] = await take(ch, queue, 1, { noAck: true });
  assert.equal(m!.content.toString(), "ok");
  const { until } = await import("./amqp-client.js");
  await until(() => returned.length === 2);
  assert.deepEqual(returned, ["", "a.+"]);
});
