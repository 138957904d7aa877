/**
 * Content filters in the router (docs/filters.md): a subscription's selector decides delivery; each
 * distinct selector is evaluated at most once per published message, whatever the number of
 * subscriptions using it; messages nobody filters never build a MessageSubject.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AllowAllAuth } from "../../src/core/auth.js";
import { nullLogger } from "../../src/core/logger.js";
import { createMessage, type Message } from "../../src/core/message.js";
import { Router } from "../../src/core/router.js";
import type { ConnectionInfo, SessionConnection } from "../../src/core/session.js";
import { MemoryStore } from "../../src/store/memory-store.js";

class Sink implements SessionConnection {
  readonly got: Message[] = [];
  readonly info: ConnectionInfo = {
    protocol: "test",
    protocolVersion: "1",
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    transport: "memory",
    connectedAt: Date.now(),
  };
  deliver(m: Message): void {
    this.got.push(m);
  }
  drain(): void {}
  close(): void {}
}

function router(): Router {
  return new Router({
    store: new MemoryStore(),
    auth: new AllowAllAuth(),
    log: nullLogger,
    limits: { maxQueuedMessages: 100, maxQueuedBytes: 0 },
  });
}

const OPTS = { qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 } as const;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test("a subscription with a selector gets only the messages it selects", () => {
  const r = router();
  const hot = new Sink();
  const all = new Sink();
  const s1 = r.attach("hot", "test", true, 0, hot).session;
  const s2 = r.attach("all", "test", true, 0, all).session;
  r.subscribe(s1, "sensors/#", { ...OPTS, selector: "temperature > 30 AND room = 'lab'" });
  r.subscribe(s2, "sensors/#", OPTS);
  r.publish(createMessage("sensors/a", json({ temperature: 35, room: "lab" })));
  r.publish(createMessage("sensors/b", json({ temperature: 20, room: "lab" })));
  r.publish(
    createMessage("sensors/c", json({ temperature: 40 }), 0, false, { userProperties: [["room", "lab"]] }),
  );
  assert.deepEqual(
    hot.got.map((m) => m.topic),
    ["sensors/a", "sensors/c"],
  );
  assert.equal(all.got.length, 3);
  // Re-subscribing without a selector removes it.
  r.subscribe(s1, "sensors/#", OPTS);
  r.publish(createMessage("sensors/d", json({ temperature: 1 })));
  assert.equal(hot.got.length, 3);
});

test("each distinct selector is evaluated once per message, however many subscriptions use it", () => {
  const r = router();
  const sinks: Sink[] = [];
  for (let i = 0; i < 10; i++) {
    const sink = new Sink();
    sinks.push(sink);
    const s = r.attach(`c${i}`, "test", true, 0, sink).session;
    r.subscribe(s, "t/+", { ...OPTS, selector: i % 2 === 0 ? "x > 1" : "x < 1" });
  }
  const before = r.selectors.evaluations;
  r.publish(createMessage("t/1", json({ x: 5 })));
  assert.equal(r.selectors.evaluations - before, 2, "two distinct selectors, two evaluations");
  assert.equal(sinks.filter((s) => s.got.length === 1).length, 5);
  r.publish(createMessage("t/1", json({ x: 0 })));
  assert.equal(r.selectors.evaluations - before, 4, "evaluated again for the next message");
});

test("no subscription with a selector: nothing is evaluated", () => {
  const r = router();
  const sink = new Sink();
  const s = r.attach("plain", "test", true, 0, sink).session;
  r.subscribe(s, "t/#", OPTS);
  r.publish(createMessage("t/1", json({ x: 5 })));
  assert.equal(r.selectors.evaluations, 0);
  assert.equal(sink.got.length, 1);
});

test("a persistent session keeps its selector in the store", async () => {
  const store = new MemoryStore();
  const r = new Router({
    store,
    auth: new AllowAllAuth(),
    log: nullLogger,
    limits: { maxQueuedMessages: 100, maxQueuedBytes: 0 },
  });
  const s = r.attach("p", "test", true, 3600, new Sink()).session;
  r.subscribe(s, "t/#", { ...OPTS, qos: 1, selector: "x = 1" });
  const state = await store.load();
  assert.equal(state.sessions[0]!.subscriptions[0]!.selector, "x = 1");
});
