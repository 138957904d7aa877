/**
 * State that must outlive the broker process: a restart here is a new broker on the same store
 * (the SIGKILL tests in test/durability/ do the same with a real process and SQLite).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createMessage } from "../../../src/core/message.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { startTestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { open, until } from "./util.js";

test("MQTT 5: a will waiting for its delay survives a broker restart and is sent on time [MQTT-3.1.3-9]", {
  timeout: 15_000,
}, async () => {
  const store = new MemoryStore();
  let b = await startTestBroker({ store });
  const { client: dying } = await open(b.mqttUrl, {
    protocolVersion: 5,
    clientId: "dying",
    clean: false,
    properties: { sessionExpiryInterval: 60 },
    will: {
      topic: "wills/dying",
      payload: Buffer.from("gone"),
      qos: 1,
      retain: false,
      properties: { willDelayInterval: 1 },
    },
  });
  dying.stream.destroy(); // abnormal end: the will is scheduled for 1 s later
  await until(() => !b.handle.router.presence.get("dying"));
  await b.close();

  b = await startTestBroker({ store });
  try {
    const { client: watcher, got } = await open(b.mqttUrl, { protocolVersion: 5, clientId: "watcher" });
    await watcher.subscribeAsync("wills/#", { qos: 1 });
    const [m] = await got.next(1, 5000);
    assert.equal(m!.topic, "wills/dying");
    assert.equal(m!.payload.toString(), "gone");
    assert.equal((await store.load()).wills.length, 0, "a sent will leaves the store");
    await endClient(watcher);
  } finally {
    await b.close();
  }
});

test("MQTT 5: a shared group's backlog survives a broker restart", { timeout: 15_000 }, async () => {
  const store = new MemoryStore();
  let b = await startTestBroker({ store });
  const member = {
    protocolVersion: 5 as const,
    clientId: "worker",
    clean: false,
    properties: { sessionExpiryInterval: 600 },
  };
  const { client: w } = await open(b.mqttUrl, member);
  await w.subscribeAsync("$share/pool/jobs/#", { qos: 1 });
  await endClient(w);
  const { client: pub } = await open(b.mqttUrl, { protocolVersion: 5, clientId: "producer" });
  for (let i = 0; i < 5; i++) await pub.publishAsync(`jobs/${i}`, String(i), { qos: 1 });
  await endClient(pub);
  await b.close();

  b = await startTestBroker({ store });
  try {
    const { client: back, got } = await open(b.mqttUrl, member);
    const ms = await got.next(5);
    assert.deepEqual(
      ms.map((m) => m.payload.toString()),
      ["0", "1", "2", "3", "4"],
    );
    await endClient(back);
  } finally {
    await b.close();
  }
});

test("queue bound: past mqtt.maxQueuedMessages the oldest queued messages are dropped and counted", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxQueuedMessages: 10 } });
  try {
    const sub = { protocolVersion: 4 as const, clientId: "away", clean: false };
    const { client: s } = await open(b.mqttUrl, sub);
    await s.subscribeAsync("q/#", { qos: 1 });
    await endClient(s);
    const { client: pub } = await open(b.mqttUrl, { clientId: "pub" });
    for (let i = 0; i < 25; i++) await pub.publishAsync("q/x", String(i), { qos: 1 });
    await endClient(pub);
    assert.equal(b.handle.router.stats.messagesDropped, 15);
    const { client: back, got } = await open(b.mqttUrl, sub);
    const ms = await got.next(10);
    assert.deepEqual(
      ms.map((m) => Number(m.payload.toString())),
      [15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
    );
    await endClient(back);
  } finally {
    await b.close();
  }
});

test("queue bound: mqtt.maxQueuedBytes keeps the newest messages that fit", { timeout: 15_000 }, async () => {
  const b = await startTestBroker({ mqtt: { maxQueuedBytes: 3000 } });
  try {
    const sub = {
      protocolVersion: 5 as const,
      clientId: "away-bytes",
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    };
    const { client: s } = await open(b.mqttUrl, sub);
    await s.subscribeAsync("b/#", { qos: 1 });
    await endClient(s);
    const { client: pub } = await open(b.mqttUrl, { clientId: "pub-bytes" });
    for (let i = 0; i < 10; i++) await pub.publishAsync("b/x", Buffer.alloc(1000, i), { qos: 1 });
    await endClient(pub);
    const session = b.handle.router.sessions.get("away-bytes")!;
    assert.equal(session.queue.length, 3);
    assert.equal(session.queuedBytes, 3000);
    const { client: back, got } = await open(b.mqttUrl, sub);
    const ms = await got.next(3);
    assert.deepEqual(
      ms.map((m) => m.payload[0]),
      [7, 8, 9],
    );
    await endClient(back);
  } finally {
    await b.close();
  }
});

test("core: a durable named queue and its persistent messages are reloaded by the router at start", {
  timeout: 10_000,
}, async () => {
  const store = new MemoryStore();
  let b = await startTestBroker({ store });
  const q = b.handle.router.queues.declare("orders", { durable: true, autoDelete: false });
  q.publish(createMessage("orders", Buffer.from("one"), 1));
  q.publish(createMessage("orders", Buffer.from("two"), 1));
  q.publish(createMessage("orders", Buffer.from("transient"), 0)); // not persistent: gone after a restart
  await b.close();
  b = await startTestBroker({ store });
  try {
    const again = b.handle.router.queues.find("orders");
    assert.ok(again, "the queue was reloaded");
    assert.equal(again.messageCount, 2);
  } finally {
    await b.close();
  }
});
