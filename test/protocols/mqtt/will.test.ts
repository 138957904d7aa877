import assert from "node:assert/strict";
import { test } from "node:test";
import type { IClientOptions } from "mqtt";
import { connect, delay, endClient } from "../../helpers/mqtt-client.js";
import { barrier, open, until, withBroker } from "./util.js";

function withWill(protocolVersion: 4 | 5, extra: Partial<IClientOptions["will"]> = {}): IClientOptions {
  return {
    protocolVersion,
    clientId: "dev",
    will: { topic: "will/dev", payload: Buffer.from("gone"), qos: 1, retain: false, ...extra },
  };
}

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion}: the will is published when the connection drops`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const watcher = await open(b.mqttUrl, { protocolVersion, clientId: "watcher" });
      clients.push(watcher.client);
      await watcher.client.subscribeAsync("will/#", { qos: 1 });
      const dev = await connect(b.mqttUrl, withWill(protocolVersion));
      clients.push(dev);
      dev.stream.destroy();
      const [m] = await watcher.got.next(1);
      assert.equal(m!.topic, "will/dev");
      assert.equal(m!.payload.toString(), "gone");
      assert.equal(m!.packet.qos, 1);
      assert.equal(m!.packet.retain, false);
    }),
  );

  test(`MQTT ${protocolVersion}: a normal DISCONNECT discards the will`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const watcher = await open(b.mqttUrl, { protocolVersion, clientId: "watcher" });
      clients.push(watcher.client);
      await watcher.client.subscribeAsync(["will/#", "marker"], { qos: 1 });
      const dev = await connect(b.mqttUrl, withWill(protocolVersion));
      clients.push(dev);
      await endClient(dev);
      await until(() => !b.handle.router.sessions.has("dev"), 3000, "disconnect");
      assert.deepEqual(await barrier(watcher.client, watcher.got, 0), []);
    }),
  );

  test(`MQTT ${protocolVersion}: the will retain flag is honoured`, { timeout: 10_000 }, () =>
    withBroker(async (b, clients) => {
      const dev = await connect(b.mqttUrl, withWill(protocolVersion, { retain: true }));
      clients.push(dev);
      dev.stream.destroy();
      await until(() => !b.handle.router.sessions.has("dev"), 3000, "drop");
      const late = await open(b.mqttUrl, { protocolVersion, clientId: "late" });
      clients.push(late.client);
      await late.client.subscribeAsync("will/#", { qos: 1 });
      const [m] = await late.got.next(1);
      assert.equal(m!.payload.toString(), "gone");
      assert.equal(m!.packet.retain, true);
    }),
  );
}

test("MQTT 5: DISCONNECT with reason 0x04 publishes the will", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const watcher = await open(b.mqttUrl, { protocolVersion: 5, clientId: "watcher" });
    clients.push(watcher.client);
    await watcher.client.subscribeAsync("will/#", { qos: 1 });
    const dev = await connect(b.mqttUrl, withWill(5));
    clients.push(dev);
    await new Promise<void>((resolve) => dev.end(false, { reasonCode: 0x04 }, () => resolve()));
    const [m] = await watcher.got.next(1);
    assert.equal(m!.payload.toString(), "gone");
  }),
);

function delayedWill(willDelayInterval: number, sessionExpiryInterval: number): IClientOptions {
  return {
    protocolVersion: 5,
    clientId: "dev",
    clean: false,
    properties: { sessionExpiryInterval },
    will: {
      topic: "will/dev",
      payload: Buffer.from("gone"),
      qos: 1,
      retain: false,
      properties: { willDelayInterval },
    },
  };
}

test("MQTT 5: the will is sent when the will delay expires", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const watcher = await open(b.mqttUrl, { protocolVersion: 5, clientId: "watcher" });
    clients.push(watcher.client);
    await watcher.client.subscribeAsync("will/#", { qos: 1 });
    const dev = await connect(b.mqttUrl, delayedWill(1, 300));
    clients.push(dev);
    const t0 = Date.now();
    dev.stream.destroy();
    await watcher.got.next(1, 3000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900, `will after ${elapsed} ms`);
    // The session outlives the will.
    assert.ok(b.handle.router.sessions.has("dev"));
  }),
);

test("MQTT 5: reconnecting within the will delay cancels the will", { timeout: 10_000 }, () =>
  withBroker(async (b, clients) => {
    const watcher = await open(b.mqttUrl, { protocolVersion: 5, clientId: "watcher" });
    clients.push(watcher.client);
    await watcher.client.subscribeAsync(["will/#", "marker"], { qos: 1 });
    const dev = await connect(b.mqttUrl, delayedWill(1, 300));
    clients.push(dev);
    dev.stream.destroy();
    await until(() => !b.handle.router.sessions.get("dev")?.connection, 3000, "drop");
    const back = await open(b.mqttUrl, delayedWill(1, 300));
    clients.push(back.client);
    assert.equal(back.connack.sessionPresent, true);
    // Past the original delay: nothing was published.
    await delay(1300);
    assert.deepEqual(await barrier(watcher.client, watcher.got, 0), []);
  }),
);

test(
  "MQTT 5: the will is sent at session expiry when that comes before the will delay",
  {
    timeout: 10_000,
  },
  () =>
    withBroker(async (b, clients) => {
      const watcher = await open(b.mqttUrl, { protocolVersion: 5, clientId: "watcher" });
      clients.push(watcher.client);
      await watcher.client.subscribeAsync("will/#", { qos: 1 });
      const dev = await connect(b.mqttUrl, delayedWill(30, 1));
      clients.push(dev);
      const t0 = Date.now();
      dev.stream.destroy();
      await watcher.got.next(1, 3000);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 900 && elapsed < 2500, `will after ${elapsed} ms`);
      await until(() => !b.handle.router.sessions.has("dev"), 1000, "session expiry");
    }),
);
