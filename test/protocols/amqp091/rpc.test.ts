/** Routed RPC from AMQP 0-9-1 (docs/rpc.md): basic.publish to `amq.rpc`, answers through reply_to. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { joinAutobahn, VARIANTS } from "../../helpers/wamp.js";
import { mqttCallee } from "../mqtt/rpc-helpers.js";
import { open, take } from "./amqp-client.js";

test("AMQP 0-9-1 caller: amq.rpc with direct reply-to and with a reply queue; WAMP and MQTT 5 callees; errors", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  const wamp = await joinAutobahn(b, VARIANTS[0]!);
  const callee = await mqttCallee(b.mqttUrl, "com.mqtt.upper", (payload) => ({
    payload: Buffer.from(payload.toString().toUpperCase()),
    contentType: "text/plain",
  }));
  const { conn, ch } = await open(b.amqpUrl);
  try {
    await wamp.session.register("com.example.add", (args: number[]) => args[0]! + args[1]!);
    // Direct reply-to, RabbitMQ's RPC pattern.
    const replies: Array<{ body: string; corr?: string; error?: unknown }> = [];
    await ch.consume(
      "amq.rabbitmq.reply-to",
      (m) => {
        if (m)
          replies.push({
            body: m.content.toString(),
            corr: m.properties.correlationId,
            error: m.properties.headers?.error,
          });
      },
      { noAck: true },
    );
    ch.publish("amq.rpc", "com.example.add", Buffer.from('{"args": [2, 3]}'), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "c1",
    });
    ch.publish("amq.rpc", "com.mqtt.upper", Buffer.from("hello"), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "c2",
      contentType: "text/plain",
    });
    ch.publish("amq.rpc", "com.none", Buffer.from(""), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: "c3",
    });
    const deadline = Date.now() + 5000;
    while (replies.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const byCorr = new Map(replies.map((r) => [r.corr, r]));
    assert.equal(byCorr.get("c1")?.body, "5");
    assert.equal(byCorr.get("c2")?.body, "HELLO");
    assert.equal(String(byCorr.get("c3")?.error), "wamp.error.no_such_procedure");

    // A plain reply queue.
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.publish("amq.rpc", "com.example.add", Buffer.from('{"args": [4, 5]}'), {
      replyTo: queue,
      correlationId: "q1",
    });
    const [m] = await take(ch, queue, 1);
    assert.equal(m!.content.toString(), "9");
    assert.equal(m!.properties.correlationId, "q1");
  } finally {
    await conn.close();
    await wamp.close();
    await endClient(callee.client);
    await b.close();
  }
});
