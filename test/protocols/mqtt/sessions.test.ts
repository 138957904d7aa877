import assert from "node:assert/strict";
import { test } from "node:test";
import type { IClientOptions, IDisconnectPacket } from "mqtt";
import { startTestBroker } from "../../helpers/broker.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { RawMqtt } from "../../helpers/raw-mqtt.js";
import { barrier, open, until, withBroker } from "./util.js";

function persistent(protocolVersion: 4 | 5, clientId: string): IClientOptions {
  return protocolVersion === 5
    ? { protocolVersion, clientId, clean: false, properties: { sessionExpiryInterval: 300 } }
    : { protocolVersion, clientId, clean: false };
}

for (const protocolVersion of [4, 5] as const) {
  test(
    `MQTT ${protocolVersion}: a persistent session keeps subscriptions and QoS 1/2 messages while away`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const first = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
        clients.push(first.client);
        assert.equal(first.connack.sessionPresent, false);
        await first.client.subscribeAsync("p/#", { qos: 2 });
        await endClient(first.client);

        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        await pub.publishAsync("p/0", "q0", { qos: 0 });
        await pub.publishAsync("p/1", "q1", { qos: 1 });
        await pub.publishAsync("p/2", "q2", { qos: 2 });

        const back = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
        clients.push(back.client);
        assert.equal(back.connack.sessionPresent, true);
        const ms = await back.got.next(2);
        assert.deepEqual(
          ms.map((m) => [m.topic, m.payload.toString(), m.packet.qos]),
          [
            ["p/1", "q1", 1],
            ["p/2", "q2", 2],
          ],
        );
        // The subscription survived: a live message arrives without subscribing again, and the
        // QoS 0 message published while away was not kept.
        await pub.publishAsync("p/live", "live", { qos: 1 });
        const [m3] = await back.got.next(3).then((all) => all.slice(2));
        assert.equal(m3!.payload.toString(), "live");
        assert.equal(back.got.messages.length, 3);
      }),
  );

  test(
    `MQTT ${protocolVersion}: a backlog larger than the in-flight window is delivered in order on resume`,
    {
      timeout: 15_000,
    },
    () =>
      withBroker(
        async (b, clients) => {
          const first = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
          clients.push(first.client);
          await first.client.subscribeAsync("w/t", { qos: 1 });
          await endClient(first.client);
          const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
          clients.push(pub);
          for (let i = 0; i < 50; i++) await pub.publishAsync("w/t", String(i), { qos: i % 2 === 0 ? 1 : 2 });
          const back = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
          clients.push(back.client);
          const ms = await back.got.next(50);
          assert.deepEqual(
            ms.map((m) => Number(m.payload.toString())),
            Array.from({ length: 50 }, (_, i) => i),
          );
          await until(() => b.handle.router.sessions.get("dev")!.queue.length === 0, 3000, "queue drained");
        },
        { mqtt: { maxInflight: 10 } },
      ),
  );

  test(`MQTT ${protocolVersion}: clean start discards the stored session`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const first = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
      clients.push(first.client);
      await first.client.subscribeAsync("c/#", { qos: 1 });
      await endClient(first.client);
      const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("c/1", "queued", { qos: 1 });

      const clean = await open(b.mqttUrl, { protocolVersion, clientId: "dev", clean: true });
      clients.push(clean.client);
      assert.equal(clean.connack.sessionPresent, false);
      await clean.client.subscribeAsync("marker", { qos: 1 });
      // No queued message and no old subscription.
      await pub.publishAsync("c/2", "after", { qos: 1 });
      assert.deepEqual(await barrier(pub, clean.got, 0), []);
    }),
  );

  test(`MQTT ${protocolVersion}: unacknowledged QoS 1 PUBLISH is resent with DUP and the same id on resume`, {
    timeout: 10_000,
  }, async () => {
    const raws: RawMqtt[] = [];
    await withBroker(async (b, clients) => {
      const opts = { clean: false, sessionExpiry: 300 };
      const r1 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw", opts);
      raws.push(r1.client);
      r1.client.send({
        cmd: "subscribe",
        packetId: 1,
        subscriptions: [
          { topic: "dup/t", qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      await r1.client.waitFor("suback");
      const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("dup/t", "m", { qos: 1 });
      const p1 = await r1.client.waitFor("publish");
      assert.equal(p1.dup, false);
      assert.equal(p1.qos, 1);
      r1.client.destroy(); // never acknowledged

      await until(() => !b.handle.router.sessions.get("raw")?.connection, 3000, "detach");
      const r2 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw", opts);
      raws.push(r2.client);
      assert.equal(r2.connack.sessionPresent, true);
      const p2 = await r2.client.waitFor("publish");
      assert.equal(p2.dup, true, "[MQTT-4.4.0-1] resent with DUP=1");
      assert.equal(p2.packetId, p1.packetId);
      assert.equal(p2.payload.toString(), "m");
      r2.client.send({ cmd: "puback", packetId: p2.packetId! });
      await until(() => b.handle.router.sessions.get("raw")!.inflight.size === 0, 3000, "puback processed");
    }).finally(() => {
      for (const r of raws) r.destroy();
    });
  });

  test(`MQTT ${protocolVersion}: PUBREL is resent on resume after PUBREC`, { timeout: 10_000 }, async () => {
    const raws: RawMqtt[] = [];
    await withBroker(async (b, clients) => {
      const opts = { clean: false, sessionExpiry: 300 };
      const r1 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw", opts);
      raws.push(r1.client);
      r1.client.send({
        cmd: "subscribe",
        packetId: 1,
        subscriptions: [
          { topic: "dup/t", qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      await r1.client.waitFor("suback");
      const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("dup/t", "m", { qos: 2 });
      const p1 = await r1.client.waitFor("publish");
      assert.equal(p1.qos, 2);
      r1.client.send({ cmd: "pubrec", packetId: p1.packetId! });
      const rel1 = await r1.client.waitFor("pubrel");
      assert.equal(rel1.packetId, p1.packetId);
      r1.client.destroy(); // PUBCOMP never sent

      await until(() => !b.handle.router.sessions.get("raw")?.connection, 3000, "detach");
      const r2 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw", opts);
      raws.push(r2.client);
      assert.equal(r2.connack.sessionPresent, true);
      const rel2 = await r2.client.waitFor("pubrel");
      assert.equal(rel2.packetId, p1.packetId);
      r2.client.send({ cmd: "pubcomp", packetId: rel2.packetId });
      await until(() => b.handle.router.sessions.get("raw")!.inflight.size === 0, 3000, "pubcomp processed");
      // The message itself is not sent again.
      assert.equal(r2.client.packets.filter((p) => p.cmd === "publish").length, 0);
    }).finally(() => {
      for (const r of raws) r.destroy();
    });
  });

  test(
    `MQTT ${protocolVersion}: session takeover closes the first connection, the session goes on`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const first = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
        clients.push(first.client);
        await first.client.subscribeAsync("to/t", { qos: 1 });
        const disconnect = new Promise<IDisconnectPacket>((resolve) =>
          first.client.once("disconnect", resolve),
        );
        const closed = new Promise<void>((resolve) => first.client.once("close", () => resolve()));

        const second = await open(b.mqttUrl, persistent(protocolVersion, "dev"));
        clients.push(second.client);
        assert.equal(second.connack.sessionPresent, true);
        await closed;
        if (protocolVersion === 5) {
          const d = await disconnect;
          assert.equal(d.reasonCode, 0x8e, "Session taken over");
        }
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        await pub.publishAsync("to/t", "to-second", { qos: 1 });
        const [m] = await second.got.next(1);
        assert.equal(m!.payload.toString(), "to-second");
        assert.equal(first.got.messages.length, 0);
      }),
  );
}

test("MQTT 5: a session with expiry 1 s is gone after it expires", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const opts = {
      protocolVersion: 5 as const,
      clientId: "dev",
      clean: false,
      properties: { sessionExpiryInterval: 1 },
    };
    const first = await open(b.mqttUrl, opts);
    clients.push(first.client);
    await first.client.subscribeAsync("e/t", { qos: 1 });
    await endClient(first.client);
    const t0 = Date.now();
    const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "pub" });
    clients.push(pub);
    await pub.publishAsync("e/t", "queued", { qos: 1 });
    assert.equal(b.handle.router.sessions.get("dev")?.queue.length, 1);
    await until(() => !b.handle.router.sessions.has("dev"), 3000, "session expiry");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 800 && elapsed < 1600, `expired after ${elapsed} ms`);

    const back = await open(b.mqttUrl, opts);
    clients.push(back.client);
    assert.equal(back.connack.sessionPresent, false);
    await back.client.subscribeAsync("marker", { qos: 1 });
    assert.deepEqual(await barrier(pub, back.got, 0), []);
  }),
);

test("MQTT 5: a session with expiry 0 ends with the connection", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const opts = {
      protocolVersion: 5 as const,
      clientId: "dev",
      clean: false,
      properties: { sessionExpiryInterval: 0 },
    };
    const first = await open(b.mqttUrl, opts);
    clients.push(first.client);
    await first.client.subscribeAsync("e/t", { qos: 1 });
    await endClient(first.client);
    await until(() => !b.handle.router.sessions.has("dev"), 1000, "session end");
    const back = await open(b.mqttUrl, opts);
    clients.push(back.client);
    assert.equal(back.connack.sessionPresent, false);
  }),
);

test("MQTT 5: a session expiry longer than 24.8 days (past setTimeout's limit) does not end the session early", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const opts = {
      protocolVersion: 5 as const,
      clientId: "long-lived",
      clean: false,
      properties: { sessionExpiryInterval: 40 * 86400 },
    };
    const first = await connect(b.mqttUrl, opts);
    await first.subscribeAsync("long/#", { qos: 1 });
    await endClient(first);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(b.handle.router.sessions.has("long-lived"), "the session is still there");
    const back = await connect(b.mqttUrl, { ...opts, clean: false });
    await endClient(back);
  } finally {
    await b.close();
  }
});
