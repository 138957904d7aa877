import assert from "node:assert/strict";
import { test } from "node:test";
import { collect, connect } from "../../helpers/mqtt-client.js";
import { barrier, withBroker } from "./util.js";

for (const protocolVersion of [4, 5] as const) {
  test(
    `MQTT ${protocolVersion}: retained message is stored, replaced and deleted by an empty payload`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        await pub.publishAsync("r/a", "first", { qos: 1, retain: true });

        const s1 = await connect(b.mqttUrl, { protocolVersion, clientId: "s1" });
        clients.push(s1);
        const g1 = collect(s1);
        await s1.subscribeAsync("r/#", { qos: 1 });
        const [m1] = await g1.next(1);
        assert.equal(m1!.topic, "r/a");
        assert.equal(m1!.payload.toString(), "first");
        assert.equal(m1!.packet.retain, true, "retained delivery on subscribe has the retain flag");

        // Replaced: the live subscriber gets it with retain cleared ([MQTT-3.3.1-9] / v5 rap=0).
        await pub.publishAsync("r/a", "second", { qos: 1, retain: true });
        const [, m2] = await g1.next(2);
        assert.equal(m2!.payload.toString(), "second");
        assert.equal(m2!.packet.retain, false, "normal delivery clears the retain flag");

        const s2 = await connect(b.mqttUrl, { protocolVersion, clientId: "s2" });
        clients.push(s2);
        const g2 = collect(s2);
        await s2.subscribeAsync("r/a", { qos: 1 });
        const [m3] = await g2.next(1);
        assert.equal(m3!.payload.toString(), "second");
        assert.equal(m3!.packet.retain, true);

        // An empty retained payload deletes it ([MQTT-3.3.1-10]).
        await pub.publishAsync("r/a", "", { qos: 1, retain: true });
        assert.equal(b.handle.router.retainedCount > 0, true); // $SYS values remain
        const s3 = await connect(b.mqttUrl, { protocolVersion, clientId: "s3" });
        clients.push(s3);
        const g3 = collect(s3);
        await s3.subscribeAsync(["r/#", "marker"], { qos: 1 });
        const before = await barrier(pub, g3, 0);
        assert.deepEqual(before, []);
      }),
  );

  test(
    `MQTT ${protocolVersion}: a non-retained publish does not replace the retained message`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        await pub.publishAsync("k/a", "kept", { qos: 1, retain: true });
        await pub.publishAsync("k/a", "transient", { qos: 1 });
        const s = await connect(b.mqttUrl, { protocolVersion, clientId: "s" });
        clients.push(s);
        const g = collect(s);
        await s.subscribeAsync("k/a", { qos: 1 });
        const [m] = await g.next(1);
        assert.equal(m!.payload.toString(), "kept");
      }),
  );
}

for (const rh of [0, 1, 2] as const) {
  test(`MQTT 5: retain handling ${rh} on new and repeated subscribe`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "pub" });
      clients.push(pub);
      await pub.publishAsync("h/t", "retained", { qos: 1, retain: true });
      const s = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "s" });
      clients.push(s);
      const g = collect(s);
      await s.subscribeAsync("marker", { qos: 1 });
      let since = g.messages.length;
      await s.subscribeAsync("h/t", { qos: 1, rh });
      const onNew = await barrier(pub, g, since);
      since = g.messages.length;
      await s.subscribeAsync("h/t", { qos: 1, rh });
      const onRepeat = await barrier(pub, g, since);
      const expected = { 0: [1, 1], 1: [1, 0], 2: [0, 0] }[rh];
      assert.deepEqual([onNew.length, onRepeat.length], expected);
      for (const m of [...onNew, ...onRepeat]) {
        assert.equal(m.payload.toString(), "retained");
        assert.equal(m.packet.retain, true);
      }
    }),
  );
}

test("MQTT 5: retain as published keeps the retain flag on normal delivery", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const s = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "s" });
    clients.push(s);
    const g = collect(s);
    await s.subscribeAsync("rap/on", { qos: 1, rap: true });
    await s.subscribeAsync("rap/off", { qos: 1, rap: false });
    const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "pub" });
    clients.push(pub);
    await pub.publishAsync("rap/on", "r", { qos: 1, retain: true });
    await pub.publishAsync("rap/on", "n", { qos: 1, retain: false });
    await pub.publishAsync("rap/off", "r", { qos: 1, retain: true });
    const ms = await g.next(3);
    assert.deepEqual(
      ms.map((m) => [m.topic, m.payload.toString(), m.packet.retain]),
      [
        ["rap/on", "r", true],
        ["rap/on", "n", false],
        ["rap/off", "r", false],
      ],
    );
  }),
);

test("MQTT 5: retained messages are not sent to a $share subscription", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "pub" });
    clients.push(pub);
    await pub.publishAsync("sh/t", "retained", { qos: 1, retain: true });
    const s = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "s" });
    clients.push(s);
    const g = collect(s);
    await s.subscribeAsync(["$share/g/sh/t", "marker"], { qos: 1 });
    assert.deepEqual(await barrier(pub, g, 0), []);
    // The shared subscription itself works.
    const since = g.messages.length;
    await pub.publishAsync("sh/t", "live", { qos: 1 });
    const [m] = await barrier(pub, g, since);
    assert.equal(m!.payload.toString(), "live");
  }),
);

test("MQTT 5: no local: a publisher does not receive its own message", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const a = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "a" });
    clients.push(a);
    const ga = collect(a);
    await a.subscribeAsync("nl/t", { qos: 1, nl: true });
    await a.subscribeAsync("marker", { qos: 1 });
    const other = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "other" });
    clients.push(other);
    const go = collect(other);
    await other.subscribeAsync("nl/t", { qos: 1 });
    await a.publishAsync("nl/t", "from-a", { qos: 1 });
    const [mo] = await go.next(1);
    assert.equal(mo!.payload.toString(), "from-a");
    assert.deepEqual(await barrier(other, ga, 0), [], "a got its own message");
    // Messages from others still arrive.
    const since = ga.messages.length;
    await other.publishAsync("nl/t", "from-other", { qos: 1 });
    const [ma] = await barrier(other, ga, since);
    assert.equal(ma!.payload.toString(), "from-other");
  }),
);
