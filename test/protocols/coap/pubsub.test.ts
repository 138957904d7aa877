/** /ps/ pub/sub with the npm `coap` client, and across protocols with MQTT.js (both ways). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { closeAgent, coapRequest, newAgent } from "./helpers.js";

async function withBroker(fn: (b: TestBroker) => Promise<void>): Promise<void> {
  const b = await startTestBroker();
  try {
    await fn(b);
  } finally {
    await b.close();
  }
}

test("CoAP PUT /ps/a/b publishes (2.04) and GET reads the last value back (2.05)", { timeout: 15_000 }, () =>
  withBroker(async (b) => {
    const agent = newAgent();
    try {
      const put = await coapRequest({
        agent,
        port: b.coapPort,
        method: "PUT",
        pathname: "/ps/a/b",
        payload: "21.5",
        contentFormat: "text/plain",
      });
      assert.equal(put.code, "2.04");
      const get = await coapRequest({ agent, port: b.coapPort, method: "GET", pathname: "/ps/a/b" });
      assert.equal(get.code, "2.05");
      assert.equal(get.payload.toString(), "21.5");
      assert.equal(get.headers["Content-Format"], "text/plain");
      const post = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/ps/a/b",
        payload: "22",
      });
      assert.equal(post.code, "2.04");
      const again = await coapRequest({ agent, port: b.coapPort, method: "GET", pathname: "/ps/a/b" });
      assert.equal(again.payload.toString(), "22");
    } finally {
      closeAgent(agent);
    }
  }),
);

test("CoAP GET of a topic with no value is 4.04", { timeout: 15_000 }, () =>
  withBroker(async (b) => {
    const agent = newAgent();
    try {
      const res = await coapRequest({ agent, port: b.coapPort, pathname: "/ps/nothing/here" });
      assert.equal(res.code, "4.04");
      const unknown = await coapRequest({ agent, port: b.coapPort, pathname: "/elsewhere" });
      assert.equal(unknown.code, "4.04");
    } finally {
      closeAgent(agent);
    }
  }),
);

test("CoAP PUT reaches an MQTT subscriber with its content type (cross-protocol)", { timeout: 15_000 }, () =>
  withBroker(async (b) => {
    const agent = newAgent();
    const sub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "mqtt-sub" });
    try {
      const got = collect(sub);
      await sub.subscribeAsync("sensors/+/temp", { qos: 1 });
      const res = await coapRequest({
        agent,
        port: b.coapPort,
        method: "PUT",
        pathname: "/ps/sensors/s1/temp",
        payload: '{"t":21}',
        contentFormat: "application/json",
      });
      assert.equal(res.code, "2.04");
      const [m] = await got.next(1);
      assert.equal(m!.topic, "sensors/s1/temp");
      assert.equal(m!.payload.toString(), '{"t":21}');
      assert.equal(m!.packet.properties?.contentType, "application/json");
      // A CON request publishes at QoS 1 (the default without ?qos).
      assert.equal(m!.packet.qos, 1);
    } finally {
      await endClient(sub, true);
      closeAgent(agent);
    }
  }),
);

test(
  "an MQTT publish reaches a CoAP observer; a retained MQTT message is the GET value",
  { timeout: 15_000 },
  () =>
    withBroker(async (b) => {
      const agent = newAgent();
      const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "mqtt-pub" });
      try {
        await pub.publishAsync("home/lamp", "on", {
          qos: 1,
          retain: true,
          properties: { contentType: "text/plain" },
        });
        const get = await coapRequest({ agent, port: b.coapPort, pathname: "/ps/home/lamp" });
        assert.equal(get.code, "2.05");
        assert.equal(get.payload.toString(), "on");
        const req = coapRequestObserve(agent, b.coapPort, "/ps/home/lamp");
        const stream = await req.stream;
        const values: string[] = [];
        const got = new Promise<void>((resolve) => {
          stream.on("data", (d: Buffer) => {
            values.push(d.toString());
            if (values.length === 3) resolve();
          });
        });
        // The registration answer carries the current value; then every publish is a notification.
        await waitUntil(() => values.length >= 1);
        await pub.publishAsync("home/lamp", "off", { qos: 1 });
        await pub.publishAsync("home/lamp", "dim", { qos: 0 });
        await got;
        assert.deepEqual(values, ["on", "off", "dim"]);
        stream.close();
      } finally {
        await endClient(pub, true);
        closeAgent(agent);
      }
    }),
);

import coap from "coap";

export function coapRequestObserve(agent: coap.Agent, port: number, pathname: string, query?: string) {
  const req = coap.request({ hostname: "127.0.0.1", port, pathname, observe: true, agent, query });
  const stream = new Promise<coap.ObserveReadStream>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("observe: no response")), 10_000);
    req.on("response", (res: coap.ObserveReadStream) => {
      clearTimeout(t);
      resolve(res);
    });
    req.on("error", reject);
  });
  req.end();
  return { req, stream };
}

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
