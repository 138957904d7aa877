/**
 * Property: for random sequences of publish / consume / ack / nack / cancel / get / flow, no message
 * is lost or duplicated. Every accepted message is, in the end, acked exactly once or discarded
 * (dead-lettered or dropped) exactly once; no message is held by two deliveries at once; first
 * deliveries follow publish order; the counts add up at every step; the store ends empty.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AckScope, type Consumer, type Delivery, QueueManager } from "../../../src/core/queues/index.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { msg } from "./helpers.js";

type Op =
  | { k: "publish"; n: number }
  | { k: "consume"; prefetch: number; noAck: boolean }
  | { k: "ack"; c: number; i: number; multiple: boolean }
  | { k: "nack"; c: number; i: number; multiple: boolean; requeue: boolean }
  | { k: "cancel"; c: number; requeue: boolean }
  | { k: "get"; noAck: boolean }
  | { k: "flow"; c: number; on: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ k: fc.constant("publish" as const), n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("consume" as const),
      prefetch: fc.integer({ min: 0, max: 3 }),
      noAck: fc.constantFrom(false, false, false, true),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("ack" as const),
      c: fc.nat(4),
      i: fc.nat(5),
      multiple: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant("nack" as const),
      c: fc.nat(4),
      i: fc.nat(5),
      multiple: fc.boolean(),
      requeue: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant("cancel" as const), c: fc.nat(4), requeue: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("get" as const), noAck: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("flow" as const), c: fc.nat(4), on: fc.boolean() }) },
);

const argsArb = fc.record(
  {
    maxLength: fc.integer({ min: 0, max: 6 }),
    overflow: fc.constantFrom("drop-head" as const, "reject-publish" as const),
    deliveryLimit: fc.integer({ min: 1, max: 4 }),
  },
  { requiredKeys: [] },
);

interface Client {
  scope: AckScope;
  consumer: Consumer | undefined;
  held: Delivery[];
}

interface Args {
  maxLength?: number;
  overflow?: "drop-head" | "reject-publish";
  deliveryLimit?: number;
}

async function run(ops: Op[], args: Args) {
  const store = new MemoryStore();
  const acked = new Map<string, number>();
  const discarded = new Map<string, number>();
  const m = new QueueManager({
    store,
    onDiscard: (e) => {
      const id = e.message.payload.toString();
      discarded.set(id, (discarded.get(id) ?? 0) + 1);
    },
  });
  const q = m.declare("q", { durable: true, autoDelete: false, arguments: args });
  const accepted: string[] = [];
  const firstDeliveries: string[] = [];
  const outstanding = new Set<string>();
  const clients: Client[] = [];
  const getter: Client = { scope: new AckScope(), consumer: undefined, held: [] };
  let seq = 0;

  const onDelivery = (client: Client, d: Delivery, noAck: boolean) => {
    const id = d.message.payload.toString();
    assert.ok(!outstanding.has(id), `message ${id} delivered while unacknowledged elsewhere`);
    assert.equal(d.redelivered, d.deliveryCount > 1);
    if (!d.redelivered) firstDeliveries.push(id);
    if (noAck) acked.set(id, (acked.get(id) ?? 0) + 1);
    else {
      outstanding.add(id);
      client.held.push(d);
    }
  };
  // Settling `tag` (or every tag ≤ it) in the model, mirroring what the scope does.
  const settle = (client: Client, tag: number, multiple: boolean, ack: boolean) => {
    const gone = client.held.filter((d) => (multiple ? d.tag <= tag : d.tag === tag));
    client.held = client.held.filter((d) => !gone.includes(d));
    for (const d of gone) {
      const id = d.message.payload.toString();
      outstanding.delete(id);
      if (ack) acked.set(id, (acked.get(id) ?? 0) + 1);
    }
    return gone.length;
  };
  const pick = (c: number) => (clients.length === 0 ? undefined : clients[c % clients.length]);
  const all = () => [...clients, getter];

  for (const op of ops) {
    switch (op.k) {
      case "publish":
        for (let i = 0; i < op.n; i++) {
          const id = `m${seq++}`;
          if (q.publish(msg(id)) === "accepted") accepted.push(id);
        }
        break;
      case "consume": {
        const client: Client = { scope: new AckScope(), consumer: undefined, held: [] };
        clients.push(client);
        client.consumer = q.addConsumer({
          tag: `c${clients.length}`,
          prefetch: op.prefetch,
          noAck: op.noAck,
          scope: client.scope,
          onMessage: (d) => onDelivery(client, d, op.noAck),
        });
        break;
      }
      case "ack":
      case "nack": {
        const client = [...all()][op.c % all().length]!;
        const d = client.held[op.i % Math.max(1, client.held.length)];
        if (!d) break;
        const expected = settle(client, d.tag, op.multiple, op.k === "ack");
        const got =
          op.k === "ack"
            ? client.scope.ack(d.tag, op.multiple)
            : client.scope.nack(d.tag, { multiple: op.multiple, requeue: op.requeue });
        assert.equal(got, expected);
        break;
      }
      case "cancel": {
        const client = pick(op.c);
        if (!client?.consumer?.active) break;
        // Model first: a requeued message may go straight to another consumer during cancel().
        if (op.requeue) settle(client, Number.MAX_SAFE_INTEGER, true, false);
        client.consumer.cancel({ requeueUnacked: op.requeue });
        break;
      }
      case "get": {
        const d = q.get(getter.scope, { noAck: op.noAck });
        if (d) onDelivery(getter, d, op.noAck);
        break;
      }
      case "flow":
        pick(op.c)?.consumer?.setFlow(op.on);
        break;
    }
    const ackedCount = [...acked.values()].reduce((a, b) => a + b, 0);
    const discardedCount = [...discarded.values()].reduce((a, b) => a + b, 0);
    assert.equal(q.messageCount + q.unackedCount, accepted.length - ackedCount - discardedCount);
    assert.equal(q.unackedCount, outstanding.size);
  }

  // Wind down: everybody leaves (requeueing), then a getter drains and acks what is left.
  outstanding.clear();
  for (const c of clients) c.consumer?.setFlow(false);
  for (const c of [...clients, getter]) {
    c.held = [];
    if (c.consumer?.active) c.consumer.cancel();
    c.scope.recover();
  }
  for (let d = q.get(getter.scope); d; d = q.get(getter.scope)) {
    onDelivery(getter, d, false);
    settle(getter, d.tag, false, true);
    getter.scope.ack(d.tag);
  }

  for (const id of accepted) {
    const n = (acked.get(id) ?? 0) + (discarded.get(id) ?? 0);
    assert.equal(n, 1, `message ${id}: acked ${acked.get(id) ?? 0}, discarded ${discarded.get(id) ?? 0}`);
  }
  assert.equal(acked.size + discarded.size, accepted.length, "nothing settled that was not accepted");
  // First deliveries follow publish order (FIFO), whatever was dropped in between.
  const order = new Map(accepted.map((id, i) => [id, i]));
  for (let i = 1; i < firstDeliveries.length; i++) {
    assert.ok(order.get(firstDeliveries[i - 1]!)! < order.get(firstDeliveries[i]!)!, "FIFO");
  }
  assert.equal((await store.load()).queueMessages.length, 0, "the store ends empty");
  m.close();
}

test("property: no message lost or duplicated under random publish/consume/ack/nack/cancel", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 100 }), argsArb, (ops, args) => run(ops, args)),
    { numRuns: 1000 },
  );
});
