/**
 * `/temp-queue/` reply-to (RabbitMQ's temporary reply queues): replies reach the sender, whether the
 * responder speaks STOMP (SEND to the `/reply-queue/...` it was given) or MQTT 5 (publish to the
 * Response Topic).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { connect as mqttConnect } from "../../helpers/mqtt-client.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { inbox, stompjs, withTimeout } from "../../helpers/stomp-clients.js";

test("STOMP requester, STOMP responder: the reply comes back on /temp-queue/", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client: responder } = await RawStomp.connect(b.stompPort);
    responder.send("SUBSCRIBE", [
      ["id", "svc"],
      ["destination", "/queue/rpc"],
    ]);
    const { client: requester } = await RawStomp.connect(b.stompPort);
    requester.send(
      "SEND",
      [
        ["destination", "/queue/rpc"],
        ["reply-to", "/temp-queue/answers"],
        ["correlation-id", "42"],
      ],
      "2+2",
    );
    const [req] = await responder.waitMessages(1);
    const replyTo = header(req!, "reply-to")!;
    assert.match(replyTo, /^\/reply-queue\//);
    responder.send(
      "SEND",
      [
        ["destination", replyTo],
        ["correlation-id", header(req!, "correlation-id")!],
      ],
      "4",
    );
    const [answer] = await requester.waitMessages(1);
    assert.equal(answer!.body.toString(), "4");
    assert.equal(header(answer!, "subscription"), "/temp-queue/answers");
    assert.equal(header(answer!, "correlation-id"), "42");
    // A second request on the same temp queue reuses the same reply destination.
    requester.send(
      "SEND",
      [
        ["destination", "/queue/rpc"],
        ["reply-to", "/temp-queue/answers"],
      ],
      "again",
    );
    const [, req2] = await responder.waitMessages(2);
    assert.equal(header(req2!, "reply-to"), replyTo);
    responder.destroy();
    requester.destroy();
  } finally {
    await b.close();
  }
});

test("cross-protocol request/reply: stompjs requester, MQTT 5 responder on the Response Topic", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  const requester = await stompjs({ ws: b.stompWsUrl });
  const responder = await mqttConnect(b.mqttUrl, { protocolVersion: 5 });
  try {
    await responder.subscribeAsync("svc/time", { qos: 1 });
    responder.on("message", (_topic, _payload, packet) => {
      const p = packet.properties!;
      responder.publish(p.responseTopic!, "12:00", {
        qos: 1,
        properties: { correlationData: p.correlationData },
      });
    });
    const box = inbox();
    requester.onUnhandledMessage = box.onMessage; // RabbitMQ's temp-queue replies have no SUBSCRIBE of their own
    requester.publish({
      destination: "/topic/svc.time",
      body: "now?",
      headers: { "reply-to": "/temp-queue/t", "correlation-id": "c9" },
    });
    const [m] = await withTimeout(box.next(1), 5000, "reply");
    assert.equal(m!.body, "12:00");
    assert.equal(m!.headers["correlation-id"], "c9");
    assert.equal(m!.headers.subscription, "/temp-queue/t");
  } finally {
    await requester.deactivate();
    await responder.endAsync();
    await b.close();
  }
});

test("a temp queue lives as long as its connection", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client: c } = await RawStomp.connect(b.stompPort);
    c.send(
      "SEND",
      [
        ["destination", "/topic/x"],
        ["reply-to", "/temp-queue/r"],
        ["receipt", "s"],
      ],
      "q",
    );
    await c.waitReceipt("s");
    const before = b.handle.router.subscriptionCount;
    assert.ok(before >= 1);
    c.destroy();
    await withTimeout(
      (async () => {
        while (b.handle.router.subscriptionCount >= before) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "gone",
    );
  } finally {
    await b.close();
  }
});
