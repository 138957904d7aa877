import assert from "node:assert/strict";
import { test } from "node:test";
import type { MqttClient } from "mqtt";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { RawMqtt } from "../../helpers/raw-mqtt.js";

for (const protocolVersion of [4, 5] as const) {
  for (const qos of [0, 1, 2] as const) {
    test(`MQTT ${protocolVersion}: QoS ${qos} publish in and delivery out`, { timeout: 10_000 }, async () => {
      const b = await startTestBroker();
      const clients: MqttClient[] = [];
      try {
        const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
        clients.push(sub);
        const got = collect(sub);
        const granted = await sub.subscribeAsync("q/t", { qos });
        assert.equal(granted[0]!.qos, qos);
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        // publishAsync resolves after PUBACK (QoS 1) / PUBCOMP (QoS 2): the inbound flow completed.
        await pub.publishAsync("q/t", `m${qos}`, { qos });
        const [m] = await got.next(1);
        assert.equal(m!.payload.toString(), `m${qos}`);
        assert.equal(m!.packet.qos, qos);
        if (qos > 0) assert.ok(m!.packet.messageId !== undefined && m!.packet.messageId > 0);
        // The outbound flow completes too: nothing stays in flight once MQTT.js acknowledged.
        const session = b.handle.router.sessions.get("sub")!;
        const deadline = Date.now() + 2000;
        while (session.inflight.size > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        assert.equal(session.inflight.size, 0);
      } finally {
        for (const c of clients) await endClient(c, true);
        await b.close();
      }
    });
  }

  test(`MQTT ${protocolVersion}: delivered QoS is downgraded to the granted maximum`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    const clients: MqttClient[] = [];
    try {
      const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
      clients.push(sub);
      const got = collect(sub);
      await sub.subscribeAsync("d/1", { qos: 1 });
      await sub.subscribeAsync("d/0", { qos: 0 });
      const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("d/1", "a", { qos: 2 });
      await pub.publishAsync("d/0", "b", { qos: 2 });
      const ms = await got.next(2);
      const byTopic = new Map(ms.map((m) => [m.topic, m.packet.qos]));
      assert.equal(byTopic.get("d/1"), 1);
      assert.equal(byTopic.get("d/0"), 0);
    } finally {
      for (const c of clients) await endClient(c, true);
      await b.close();
    }
  });

  test(`MQTT ${protocolVersion}: maxQoS 1 grants QoS 1 to a QoS 2 subscription`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker({ mqtt: { maxQoS: 1 } });
    const clients: MqttClient[] = [];
    try {
      const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
      clients.push(sub);
      const granted = await sub.subscribeAsync("g/t", { qos: 2 });
      assert.equal(granted[0]!.qos, 1);
      const got = collect(sub);
      const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("g/t", "x", { qos: 1 });
      const [m] = await got.next(1);
      assert.equal(m!.packet.qos, 1);
    } finally {
      for (const c of clients) await endClient(c, true);
      await b.close();
    }
  });

  for (const qos of [1, 2] as const) {
    test(`MQTT ${protocolVersion}: 500 QoS ${qos} messages arrive in order through an in-flight window of 10`, {
      timeout: 30_000,
    }, async () => {
      const b = await startTestBroker({ mqtt: { maxInflight: 10 } });
      const clients: MqttClient[] = [];
      const N = 500;
      try {
        const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
        clients.push(sub);
        const got = collect(sub);
        await sub.subscribeAsync("o/t", { qos });
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        // MQTT.js does not limit itself to the server's Receive Maximum: publish in batches of 10.
        for (let i = 0; i < N; i += 10) {
          const batch: Promise<unknown>[] = [];
          for (let j = i; j < i + 10; j++) batch.push(pub.publishAsync("o/t", String(j), { qos }));
          await Promise.all(batch);
        }
        const ms = await got.next(N, 20_000);
        assert.deepEqual(
          ms.map((m) => Number(m.payload.toString())),
          Array.from({ length: N }, (_, i) => i),
        );
        for (const m of ms) assert.equal(m.packet.qos, qos);
        assert.ok(b.handle.router.sessions.get("sub")!.inflight.size <= 10);
      } finally {
        for (const c of clients) await endClient(c, true);
        await b.close();
      }
    });
  }

  test(`MQTT ${protocolVersion}: a QoS 2 PUBLISH resent with DUP before PUBREL is routed once`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    let raw: RawMqtt | undefined;
    const clients: MqttClient[] = [];
    try {
      const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
      clients.push(sub);
      const got = collect(sub);
      await sub.subscribeAsync("x/once", { qos: 2 });
      ({ client: raw } = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw-pub"));
      const publish = {
        cmd: "publish" as const,
        topic: "x/once",
        payload: Buffer.from("only-once"),
        qos: 2 as const,
        retain: false,
        dup: false,
        packetId: 7,
      };
      raw.send(publish);
      const rec1 = await raw.waitFor("pubrec");
      assert.equal(rec1.packetId, 7);
      raw.send({ ...publish, dup: true });
      const rec2 = await raw.waitFor("pubrec");
      assert.equal(rec2.packetId, 7);
      raw.send({ cmd: "pubrel", packetId: 7 });
      const comp = await raw.waitFor("pubcomp");
      assert.equal(comp.packetId, 7);
      // After PUBCOMP the id is free again: a new message with id 7 is a new message.
      raw.send({ ...publish, payload: Buffer.from("second") });
      await raw.waitFor("pubrec");
      raw.send({ cmd: "pubrel", packetId: 7 });
      await raw.waitFor("pubcomp");
      const ms = await got.next(2);
      assert.deepEqual(
        ms.map((m) => m.payload.toString()),
        ["only-once", "second"],
      );
      // Nothing else arrives.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got.messages.length, 2);
    } finally {
      raw?.destroy();
      for (const c of clients) await endClient(c, true);
      await b.close();
    }
  });

  test(`MQTT ${protocolVersion}: a QoS 2 PUBLISH resent after reconnecting is routed once`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    const raws: RawMqtt[] = [];
    const clients: MqttClient[] = [];
    try {
      const sub = await connect(b.mqttUrl, { protocolVersion, clientId: "sub" });
      clients.push(sub);
      const got = collect(sub);
      await sub.subscribeAsync("x/once", { qos: 2 });
      const opts = { clean: false, sessionExpiry: 300 };
      const r1 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw-pub", opts);
      raws.push(r1.client);
      const publish = {
        cmd: "publish" as const,
        topic: "x/once",
        payload: Buffer.from("once"),
        qos: 2 as const,
        retain: false,
        dup: false,
        packetId: 9,
      };
      r1.client.send(publish);
      await r1.client.waitFor("pubrec");
      r1.client.destroy(); // PUBREL never sent on this connection
      const r2 = await RawMqtt.connect(b.mqttPort, protocolVersion, "raw-pub", opts);
      raws.push(r2.client);
      assert.equal(r2.connack.sessionPresent, true);
      r2.client.send({ ...publish, dup: true });
      await r2.client.waitFor("pubrec");
      r2.client.send({ cmd: "pubrel", packetId: 9 });
      await r2.client.waitFor("pubcomp");
      await got.next(1);
      // A marker from the same publisher arrives after anything the resend could have caused.
      r2.client.send({ ...publish, packetId: 10, qos: 1, payload: Buffer.from("marker") });
      await r2.client.waitFor("puback");
      const ms = await got.next(2);
      assert.deepEqual(
        ms.map((m) => m.payload.toString()),
        ["once", "marker"],
      );
    } finally {
      for (const r of raws) r.destroy();
      for (const c of clients) await endClient(c, true);
      await b.close();
    }
  });
}
