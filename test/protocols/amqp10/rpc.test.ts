/** Routed RPC from AMQP 1.0 (docs/rpc.md): transfers to `/rpc/<procedure>`, answers through reply-to. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { joinAutobahn, VARIANTS } from "../../helpers/wamp.js";
import { mqttCallee } from "../mqtt/rpc-helpers.js";
import { closeConn, connect, receiver, send, sender } from "./client.js";

const text = (body: unknown): string =>
  typeof body === "string" ? body : Buffer.from((body as { content: Buffer }).content).toString();

test("AMQP 1.0 caller: /rpc/<procedure> to WAMP and MQTT 5 callees, replies on a dynamic node and a queue; errors", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  const wamp = await joinAutobahn(b, VARIANTS[0]!);
  const callee = await mqttCallee(b.mqttUrl, "com.mqtt.upper", (payload) => ({
    payload: Buffer.from(payload.toString().toUpperCase()),
    contentType: "text/plain",
  }));
  const conn = await connect(b.amqpPort);
  try {
    await wamp.session.register("com.example.add", (args: number[]) => args[0]! + args[1]!);
    const replies = await receiver(conn, { source: { dynamic: true } } as never);
    const address = (replies.receiver as unknown as { source: { address: string } }).source.address;
    const add = await sender(conn, "/rpc/com.example.add");
    const outcome = await send(add, {
      body: '{"args": [2, 3]}',
      reply_to: address,
      correlation_id: "c1",
    });
    assert.equal(outcome.outcome, "accepted");
    const upper = await sender(conn, "/rpc/com.mqtt.upper");
    await send(upper, { body: "hello", content_type: "text/plain", reply_to: address, correlation_id: "c2" });
    const none = await sender(conn, "/rpc/com.none");
    await send(none, { body: "", reply_to: address, correlation_id: "c3" });
    const got = await replies.take(3);
    const byCorr = new Map(got.map((g) => [String(g.message.correlation_id), g.message]));
    assert.equal(text(byCorr.get("c1")!.body), "5");
    assert.equal(text(byCorr.get("c2")!.body), "HELLO");
    assert.equal(
      (byCorr.get("c3")!.application_properties as Record<string, unknown>).error,
      "wamp.error.no_such_procedure",
    );
    // A queue as the reply address.
    const inbox = await receiver(conn, "/queue/rpc-replies");
    await send(add, { body: '{"args": [4, 5]}', reply_to: "/queue/rpc-replies", correlation_id: "q1" });
    const [m] = await inbox.take(1);
    assert.equal(text(m!.message.body), "9");
    assert.equal(String(m!.message.correlation_id), "q1");
    add.close();
    upper.close();
    none.close();
  } finally {
    await closeConn(conn);
    await wamp.close();
    await endClient(callee.client);
    await b.close();
  }
});
