import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "../../helpers/mqtt-client.js";
import { barrier, open, withBroker } from "./util.js";

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: $SYS/broker/# delivers retained broker values`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const s = await open(b.mqttUrl, { protocolVersion, clientId: "sys" });
      clients.push(s.client);
      await s.client.subscribeAsync("$SYS/broker/#", { qos: 0 });
      await s.client.subscribeAsync("marker", { qos: 1 });
      const ms = await barrier(s.client, s.got, 0);
      const byTopic = new Map(ms.map((m) => [m.topic, m]));
      for (const t of ["$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected"]) {
        const m = byTopic.get(t);
        assert.ok(m, `${t} missing`);
        assert.equal(m.packet.retain, true);
      }
      assert.match(byTopic.get("$SYS/broker/version")!.payload.toString(), /^switchboard /);
      assert.match(byTopic.get("$SYS/broker/uptime")!.payload.toString(), /^\d+ seconds$/);
      assert.match(byTopic.get("$SYS/broker/clients/connected")!.payload.toString(), /^\d+$/);
    }),
  );

  test(`MQTT ${protocolVersion}: "#" does not match $SYS topics [MQTT-4.7.2-1]`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const s = await open(b.mqttUrl, { protocolVersion, clientId: "all" });
      clients.push(s.client);
      await s.client.subscribeAsync("#", { qos: 1 });
      await s.client.subscribeAsync("+/clients/#", { qos: 1 });
      // Retained $SYS values exist, and a connect publishes a $SYS presence event.
      const other = await connect(b.mqttUrl, { protocolVersion, clientId: "other" });
      clients.push(other);
      const ms = await barrier(s.client, s.got, 0);
      assert.deepEqual(
        ms.map((m) => m.topic),
        [],
      );
    }),
  );

  test(
    `MQTT ${protocolVersion}: presence events arrive on $SYS/clients/<id>/connected`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const s = await open(b.mqttUrl, { protocolVersion, clientId: "watch" });
        clients.push(s.client);
        await s.client.subscribeAsync("$SYS/clients/+/+", { qos: 0 });
        const dev = await connect(b.mqttUrl, { protocolVersion, clientId: "dev-1" });
        clients.push(dev);
        const [m] = await s.got.next(1);
        assert.equal(m!.topic, "$SYS/clients/dev-1/connected");
        const body = JSON.parse(m!.payload.toString());
        assert.equal(body.protocol, "mqtt");
        assert.equal(body.clientId, "dev-1");
        assert.equal(body.remoteAddress, "127.0.0.1");
        dev.stream.destroy();
        const [, d] = await s.got.next(2);
        assert.equal(d!.topic, "$SYS/clients/dev-1/disconnected");
        assert.equal(JSON.parse(d!.payload.toString()).protocol, "mqtt");
      }),
  );
}
