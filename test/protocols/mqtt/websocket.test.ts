/** MQTT over WebSocket at /mqtt: subprotocols, binary frames, packets split over and packed into frames. */
import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { encode, MqttDecoder } from "../../../src/protocols/mqtt/codec/index.js";
import type { Packet } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";

function openWs(url: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function packets(ws: WebSocket): { next: () => Promise<Packet> } {
  const decoder = new MqttDecoder({ maxPacketSize: 1 << 20 });
  decoder.version = 4;
  const queue: Packet[] = [];
  const waiting: Array<(p: Packet) => void> = [];
  ws.on("message", (data: Buffer) =>
    decoder.push(data, (p) => {
      const w = waiting.shift();
      if (w) w(p);
      else queue.push(p);
    }),
  );
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const p = queue.shift();
        if (p) return resolve(p);
        const timer = setTimeout(() => reject(new Error("no packet")), 3000);
        waiting.push((q) => {
          clearTimeout(timer);
          resolve(q);
        });
      }),
  };
}

for (const subprotocol of ["mqtt", "mqttv3.1"]) {
  test(`WebSocket subprotocol ${subprotocol}: a CONNECT split over three frames, then SUBSCRIBE+PUBLISH packed in one frame`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    const ws = await openWs(b.wsUrl, [subprotocol]);
    try {
      assert.equal(ws.protocol, subprotocol);
      const input = packets(ws);
      const connectBytes = encode(
        {
          cmd: "connect",
          protocolName: "MQTT",
          protocolVersion: 4,
          clean: true,
          keepalive: 30,
          clientId: "ws-split",
        },
        4,
      );
      // [MQTT-6.0.0-2]: a packet may span WebSocket frames; the broker must reassemble it.
      ws.send(connectBytes.subarray(0, 3));
      ws.send(connectBytes.subarray(3, 7));
      ws.send(connectBytes.subarray(7));
      const connack = await input.next();
      assert.equal(connack.cmd, "connack");
      const both = Buffer.concat([
        encode(
          {
            cmd: "subscribe",
            packetId: 1,
            subscriptions: [
              { topic: "ws/#", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
            ],
          },
          4,
        ),
        encode(
          {
            cmd: "publish",
            topic: "ws/echo",
            payload: Buffer.from([0, 1, 2, 3]),
            qos: 0,
            retain: false,
            dup: false,
          },
          4,
        ),
      ]);
      ws.send(both);
      const suback = await input.next();
      assert.equal(suback.cmd, "suback");
      const pub = await input.next();
      assert.equal(pub.cmd, "publish");
      assert.deepEqual(pub.cmd === "publish" && [...pub.payload], [0, 1, 2, 3]);
    } finally {
      ws.terminate();
      await b.close();
    }
  });
}

test("WebSocket: an unsupported subprotocol is refused; MQTT.js over ws talks to TCP clients", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    await assert.rejects(openWs(b.wsUrl, ["stomp"]), /400/);
    const tcp = await connect(b.mqttUrl, { clientId: "tcp-sub" });
    const got = collect(tcp);
    await tcp.subscribeAsync("mixed/#", { qos: 1 });
    const web = await connect(b.wsUrl, { clientId: "ws-pub", protocolVersion: 5 });
    const big = Buffer.alloc(300_000, 7);
    await web.publishAsync("mixed/big", big, { qos: 1 });
    const [m] = await got.next(1);
    assert.equal(Buffer.compare(m!.payload, big), 0);
    assert.equal(b.handle.router.presence.get("ws-pub")?.transport, "ws");
    await endClient(web);
    await endClient(tcp);
  } finally {
    await b.close();
  }
});
