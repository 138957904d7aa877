/**
 * /topic/ publish-subscribe with real clients: @stomp/stompjs over WebSocket and TCP, stompit over
 * TCP, and MQTT.js on the same topics (the shared topic space, headers <-> MQTT 5 properties).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Client } from "@stomp/stompjs";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect } from "../../helpers/mqtt-client.js";
import {
  inbox,
  sendWithReceipt,
  stompitBody,
  stompitConnect,
  stompitSend,
  stompjs,
  type Transport,
  withTimeout,
} from "../../helpers/stomp-clients.js";

async function subscribed(client: Client, destination: string, headers: Record<string, string> = {}) {
  const box = inbox();
  const receipt = `sub-${Math.random()}`;
  const done = new Promise<void>((r) => client.watchForReceipt(receipt, () => r()));
  client.subscribe(destination, box.onMessage, { ...headers, receipt });
  await withTimeout(done, 5000, "SUBSCRIBE receipt");
  return box;
}

for (const kind of ["ws", "tcp"] as const) {
  test(`stompjs over ${kind}: /topic/ wildcards, binary bodies with NUL bytes, custom headers`, {
    timeout: 20_000,
  }, async () => {
    const b = await startTestBroker();
    const t: Transport = kind === "ws" ? { ws: b.stompWsUrl } : { tcp: b.stompPort };
    const sub = await stompjs(t);
    const pub = await stompjs(t);
    try {
      const star = await subscribed(sub, "/topic/sensors.*.temp");
      const hash = await subscribed(sub, "/topic/sensors.#");
      const body = new Uint8Array([0, 1, 2, 0, 255]);
      await sendWithReceipt(pub, "/topic/sensors.k1.temp", body, {
        "message-id": "mine",
        "x-unit": "celsius",
        "content-type": "application/octet-stream",
      });
      await sendWithReceipt(pub, "/topic/sensors.k1.humidity", "55");
      const [m] = await star.next(1);
      assert.equal(m!.headers.destination, "/topic/sensors.k1.temp");
      assert.equal(m!.headers["x-unit"], "celsius");
      assert.equal(
        m!.headers["x-original-message-id"],
        "mine",
        "the publisher's message-id next to the broker's",
      );
      assert.notEqual(m!.headers["message-id"], "mine");
      assert.equal(m!.headers["content-type"], "application/octet-stream");
      assert.deepEqual(Buffer.from(m!.binaryBody), Buffer.from(body));
      const all = await hash.next(2);
      assert.deepEqual(all.map((x) => x.headers.destination).sort(), [
        "/topic/sensors.k1.humidity",
        "/topic/sensors.k1.temp",
      ]);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(star.messages.length, 1, "humidity does not match sensors.*.temp");
    } finally {
      await sub.deactivate();
      await pub.deactivate();
      await b.close();
    }
  });
}

test("cross-protocol: MQTT 5 publish -> STOMP subscriber, properties become headers", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const stomp = await stompjs({ ws: b.stompWsUrl });
  const mqtt = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const box = await subscribed(stomp, "/topic/home.+.temp".replace("+", "*"));
    await mqtt.publishAsync("home/kitchen/temp", Buffer.from("21.5"), {
      qos: 1,
      properties: {
        contentType: "text/plain",
        correlationData: Buffer.from("req-7"),
        responseTopic: "home/replies",
        messageExpiryInterval: 60,
        userProperties: { unit: "C" },
      },
    });
    const [m] = await box.next(1);
    assert.equal(m!.body, "21.5");
    assert.equal(m!.headers.destination, "/topic/home.kitchen.temp");
    assert.equal(m!.headers["content-type"], "text/plain");
    assert.equal(m!.headers["correlation-id"], "req-7");
    assert.equal(m!.headers["reply-to"], "/topic/home.replies");
    assert.equal(m!.headers.unit, "C");
    assert.equal(m!.headers.persistent, "true");
    const expires = Number(m!.headers.expires);
    assert.ok(expires > Date.now() + 50_000 && expires <= Date.now() + 61_000, `expires ${expires}`);
  } finally {
    await stomp.deactivate();
    await mqtt.endAsync();
    await b.close();
  }
});

test("cross-protocol: STOMP SEND -> MQTT 5 subscriber, headers become properties", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const stomp = await stompjs({ tcp: b.stompPort });
  const mqtt = await connect(b.mqttUrl, { protocolVersion: 5 });
  try {
    const got = collect(mqtt);
    await mqtt.subscribeAsync("plant/+/state", { qos: 1 });
    await sendWithReceipt(stomp, "/topic/plant.line1.state", "running", {
      "content-type": "text/plain",
      "correlation-id": "c-1",
      "reply-to": "/topic/plant.answers",
      expiration: "30000",
      persistent: "true",
      batch: "42",
      "message-id": "m-1",
    });
    const [m] = await got.next(1);
    assert.equal(m!.topic, "plant/line1/state");
    assert.equal(m!.payload.toString(), "running");
    const p = m!.packet.properties!;
    assert.equal(m!.packet.qos, 1, "persistent:true is QoS 1");
    assert.equal(p.contentType, "text/plain");
    assert.equal(Buffer.from(p.correlationData!).toString(), "c-1");
    assert.equal(p.responseTopic, "plant/answers");
    assert.deepEqual({ ...p.userProperties }, { batch: "42", "message-id": "m-1" });
    assert.ok(p.messageExpiryInterval! > 25 && p.messageExpiryInterval! <= 30);
  } finally {
    await stomp.deactivate();
    await mqtt.endAsync();
    await b.close();
  }
});

test("MQTT topics with dots: '.' and '/' swap places (RabbitMQ's convention)", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const stomp = await stompjs({ tcp: b.stompPort });
  const mqtt = await connect(b.mqttUrl);
  try {
    const box = await subscribed(stomp, "/topic/v1/0.#");
    await mqtt.publishAsync("v1.0/x", "dotted");
    const [m] = await box.next(1);
    assert.equal(m!.headers.destination, "/topic/v1/0.x");
  } finally {
    await stomp.deactivate();
    await mqtt.endAsync();
    await b.close();
  }
});

test("stompit (STOMP 1.1 over TCP): subscribe and send on /topic/ and /exchange/amq.topic/", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const a = await stompitConnect(b.stompPort);
  const c = await stompitConnect(b.stompPort);
  try {
    const received = new Promise<{ headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      a.subscribe(
        { destination: "/exchange/amq.topic/alerts.#", ack: "auto" },
        (err: Error | null, message: { headers: Record<string, string> }) => {
          if (err) return reject(err);
          stompitBody(message).then((body) => resolve({ headers: message.headers, body }), reject);
        },
      );
    });
    await new Promise((r) => setTimeout(r, 200)); // stompit SUBSCRIBE has no receipt callback
    stompitSend(c, { destination: "/topic/alerts.fire", "x-level": "high" }, Buffer.from([7, 0, 7]));
    const m = await withTimeout(received, 5000, "stompit message");
    assert.equal(m.headers.destination, "/topic/alerts.fire");
    assert.equal(m.headers["x-level"], "high");
    assert.deepEqual(m.body, Buffer.from([7, 0, 7]));
  } finally {
    await new Promise((r) => a.disconnect(r));
    await new Promise((r) => c.disconnect(r));
    await b.close();
  }
});

test("WebSocket /stomp: the subprotocol offered first that is supported is chosen", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const { default: WebSocket } = await import("ws");
  try {
    for (const proto of ["v10.stomp", "v11.stomp", "v12.stomp"]) {
      const ws = new WebSocket(b.stompWsUrl, [proto]);
      await withTimeout(
        new Promise((r, j) => {
          ws.once("open", r);
          ws.once("error", j);
        }),
        5000,
        "ws open",
      );
      assert.equal(ws.protocol, proto);
      ws.close();
    }
    const bad = new WebSocket(b.stompWsUrl, ["mqtt"]);
    await withTimeout(new Promise<void>((r) => bad.once("error", () => r())), 5000, "refused");
  } finally {
    await b.close();
  }
});
