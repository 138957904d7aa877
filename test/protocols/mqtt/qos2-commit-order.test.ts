/**
 * A QoS 2 PUBLISH to a persistent session leaves only after the commit that stores its packet id:
 * a crash in between would otherwise send it again under a new id, and the client would take it
 * twice. The store here commits only when the test says so.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { startTestBroker } from "../../helpers/broker.js";
import { delay } from "../../helpers/mqtt-client.js";
import { RawMqtt } from "../../helpers/raw-mqtt.js";

/** A memory store whose commit() resolves only when `release()` is called. */
class GatedStore extends MemoryStore {
  private gates: Array<() => void> = [];
  gated = false;
  override commit(): Promise<void> {
    if (!this.gated) return super.commit();
    return new Promise((resolve) => this.gates.push(resolve));
  }
  release(): void {
    const g = this.gates;
    this.gates = [];
    for (const r of g) r();
  }
  get waiting(): number {
    return this.gates.length;
  }
}

test("QoS 2 to a persistent session: the PUBLISH waits for the commit of its packet id; QoS 1 and later packets keep their order", {
  timeout: 20_000,
}, async () => {
  const store = new GatedStore();
  const b = await startTestBroker({ store });
  const sub = (await RawMqtt.connect(b.mqttPort, 4, "durable-sub", { clean: false })).client;
  const pub = await RawMqtt.session(b.mqttPort, 4, "pub");
  try {
    sub.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [{ topic: "t/#", qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    });
    await sub.waitFor("suback");
    store.gated = true;
    // QoS 0 publishes need no commit from the publisher's side; the subscriber's copy is QoS 2 or 0.
    pub.send({
      cmd: "publish",
      topic: "t/a",
      payload: Buffer.from("two"),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 7,
    });
    pub.send({
      cmd: "publish",
      topic: "t/b",
      payload: Buffer.from("zero"),
      qos: 0,
      retain: false,
      dup: false,
    });
    await delay(200);
    assert.deepEqual(
      sub.packets.filter((p) => p.cmd === "publish"),
      [],
      "nothing reaches the subscriber before the commit",
    );
    assert.ok(store.waiting > 0);
    store.release();
    const first = await sub.waitFor("publish");
    const second = await sub.waitFor("publish");
    assert.equal(first.qos, 2);
    assert.equal(first.payload.toString(), "two");
    assert.equal(second.payload.toString(), "zero", "a later packet does not overtake the held one");
    store.gated = false;
    store.release();
  } finally {
    store.gated = false;
    store.release();
    sub.destroy();
    pub.destroy();
    await b.close();
  }
});
