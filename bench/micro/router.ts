/**
 * Router.publish microbenchmarks: the core's per-message cost without sockets or codec. Subscribers
 * are fake SessionConnections that only count deliveries; the store is the MemoryStore.
 */
import { strictEqual } from "node:assert";
import { AllowAllAuth } from "../../src/core/auth.js";
import { nullLogger } from "../../src/core/logger.js";
import { createMessage, type Message, type QoS } from "../../src/core/message.js";
import { Router } from "../../src/core/router.js";
import type { ConnectionInfo, SessionConnection, SubscriptionOptions } from "../../src/core/session.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { Bench, Runner } from "./harness.js";
import { subscriptionFilters } from "./topics.js";

class CountingConnection implements SessionConnection {
  deliveries = 0;
  readonly info: ConnectionInfo = {
    protocol: "bench",
    protocolVersion: "0",
    remoteAddress: "127.0.0.1",
    remotePort: 0,
    transport: "none",
    connectedAt: Date.now(),
  };

  deliver(): void {
    this.deliveries++;
  }

  drain(): void {}

  close(): void {}
}

function options(qos: QoS): SubscriptionOptions {
  return { qos, noLocal: false, retainAsPublished: false, retainHandling: 0 };
}

async function newRouter(): Promise<Router> {
  const router = new Router({
    store: new MemoryStore(),
    auth: new AllowAllAuth(),
    log: nullLogger,
    limits: { maxQueuedMessages: 1000, maxQueuedBytes: 0 },
  });
  await router.start();
  return router;
}

interface RouterCase {
  slug: string;
  name: string;
  /** Subscribers, each with its own session and connection, all on `filter`. */
  subscribers: number;
  filter: string;
  /** The topic of message i (1,024 distinct messages, cycled). */
  topic: (i: number) => string;
  qos: QoS;
  /** Add the 100,000 filters of the topic benchmark to the tree too (on one other session). */
  crowded?: boolean;
}

const CASES: RouterCase[] = [
  {
    slug: "1-exact",
    name: "1 subscriber, exact filter, QoS 0",
    subscribers: 1,
    filter: "bench/pairs/0",
    topic: () => "bench/pairs/0",
    qos: 0,
  },
  {
    slug: "1-plus",
    name: "1 subscriber on `bench/fanin/+`, 16 topics, QoS 0",
    subscribers: 1,
    filter: "bench/fanin/+",
    topic: (i) => `bench/fanin/${i % 16}`,
    qos: 0,
  },
  {
    slug: "1-qos1",
    name: "1 subscriber, exact filter, QoS 1",
    subscribers: 1,
    filter: "bench/pairs/0",
    topic: () => "bench/pairs/0",
    qos: 1,
  },
  {
    slug: "1-crowded",
    name: "1 subscriber, exact filter, among 100k other subscriptions",
    subscribers: 1,
    filter: "site/5000/device/7/temp",
    topic: () => "site/5000/device/7/temp",
    qos: 0,
    crowded: true,
  },
  {
    slug: "64-fanout",
    name: "64 subscribers on one topic, QoS 0",
    subscribers: 64,
    filter: "bench/fanout",
    topic: () => "bench/fanout",
    qos: 0,
  },
];

async function routerRunner(c: RouterCase): Promise<Runner> {
  const router = await newRouter();
  const conns: CountingConnection[] = [];
  for (let i = 0; i < c.subscribers; i++) {
    const conn = new CountingConnection();
    const { session } = router.attach(`sub-${i}`, "bench", true, 0, conn);
    router.subscribe(session, c.filter, options(c.qos));
    conns.push(conn);
  }
  if (c.crowded) {
    const { session } = router.attach("crowd", "bench", true, 0, new CountingConnection());
    for (const f of subscriptionFilters()) router.subscribe(session, f, options(0));
  }
  const messages: Message[] = Array.from({ length: 1024 }, (_, i) =>
    createMessage(c.topic(i), Buffer.alloc(64, 0x61), c.qos, false, {}, "publisher"),
  );
  const run: Runner = (iterations) => {
    let matched = 0;
    for (let i = 0; i < iterations; i++) matched += router.publish(messages[i & 1023]);
    return matched;
  };
  // One publish reaches every subscriber once (the crowd's filters do not match these topics).
  const before = conns.map((x) => x.deliveries);
  strictEqual(run(1), c.subscribers);
  for (let i = 0; i < conns.length; i++) strictEqual(conns[i].deliveries, before[i] + 1);
  return run;
}

export function routerBenches(): Bench[] {
  return CASES.map((c) => ({
    id: `router/${c.slug}`,
    group: "router",
    case: `Router.publish: ${c.name}`,
    impl: "",
    unit: "publish",
    unitsPerOp: 1,
    note: `${c.subscribers} deliver${c.subscribers === 1 ? "y" : "ies"}/publish`,
    setup: () => routerRunner(c),
  }));
}
