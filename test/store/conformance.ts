/**
 * The Store conformance suite (STYLE.md convention 7): every Store implementation registers it with
 * its own factory and must pass all of it, so the router can rely on the interface alone.
 *
 * `make()` gives a fresh, empty store plus:
 * - `reopen()`: a Store over the durable data as it is now, WITHOUT closing the current one (a restart
 *   after commit() — only committed writes may be relied on). The memory store returns itself.
 * - `cleanup()`: closes every store it opened and removes whatever it created.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Message } from "../../src/core/message.js";
import type {
  Store,
  StoredDelivery,
  StoredGroupMessage,
  StoredQueue,
  StoredQueueMessage,
  StoredSession,
  StoredState,
  StoredWill,
} from "../../src/store/store.js";

export interface StoreHarness {
  store: Store;
  reopen: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

const T = { timeout: 20_000 };

export function message(
  topic: string,
  payload: Buffer | string = "hello",
  extra: Partial<Message> = {},
): Message {
  return {
    topic,
    payload: typeof payload === "string" ? Buffer.from(payload) : payload,
    qos: 1,
    retain: false,
    properties: {},
    publisherId: "pub-1",
    timestamp: 1_700_000_000_123,
    ...extra,
  };
}

/** A message with every field and every property set, including awkward values. */
export function fullMessage(topic = "a/b/c"): Message {
  return {
    topic,
    payload: Buffer.from([0, 1, 2, 0, 255, 0]),
    qos: 2,
    retain: true,
    properties: {
      contentType: "application/octet-stream; charset=ü",
      correlationData: Buffer.from([0, 0, 7, 0, 0xff]),
      responseTopic: "reply/to/😀",
      expiresAt: 1_700_000_060_000,
      userProperties: [
        ["k", "v1"],
        ["a", ""],
        ["k", "v2"],
        ["k", "v1"],
        ["", "empty key"],
      ],
      payloadIsUtf8: false,
    },
    publisherId: "device-42",
    publisherUser: "alice",
    timestamp: 1_700_000_000_001,
    encoded: new Map([["mqtt5", Buffer.from("cached bytes")]]),
  };
}

export function delivery(clientId: string, seq: number, extra: Partial<StoredDelivery> = {}): StoredDelivery {
  return {
    clientId,
    seq,
    message: message(`t/${clientId}/${seq}`, `payload ${seq}`),
    qos: 1,
    retain: false,
    state: "queued",
    ...extra,
  };
}

export function session(clientId: string, extra: Partial<StoredSession> = {}): StoredSession {
  return {
    clientId,
    protocol: "mqtt5",
    expiryInterval: 3600,
    subscriptions: [
      { filter: "a/+/c", qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 0 },
      {
        filter: "$share/g1/sensors/#",
        qos: 2,
        noLocal: true,
        retainAsPublished: false,
        retainHandling: 2,
        subscriptionId: 7,
      },
    ],
    ...extra,
  };
}

export function will(clientId: string, extra: Partial<StoredWill> = {}): StoredWill {
  return {
    clientId,
    message: message(`will/${clientId}`, `gone ${clientId}`),
    dueAt: 1_700_000_100_000,
    ...extra,
  };
}

/** Group keys are `<group>\u0000<filter>`: the NUL must survive. */
export const GROUP_A = "g1\u0000sensors/#";
export const GROUP_B = "g2\u0000a/+/c";

export function groupMessage(
  group: string,
  seq: number,
  extra: Partial<StoredGroupMessage> = {},
): StoredGroupMessage {
  return { group, seq, message: message(`grp/${seq}`, `group payload ${seq}`), qos: 1, ...extra };
}

export function queue(name: string, extra: Partial<StoredQueue> = {}): StoredQueue {
  return {
    name,
    durable: true,
    autoDelete: false,
    arguments: { maxLength: 1000, overflow: "reject-publish", deadLetterQueue: "dlq" },
    createdAt: 1_700_000_000_500,
    ...extra,
  };
}

export function queueMessage(
  queueName: string,
  seq: number,
  extra: Partial<StoredQueueMessage> = {},
): StoredQueueMessage {
  return {
    queue: queueName,
    seq,
    message: message(`q/${queueName}/${seq}`, `queue payload ${seq}`),
    deliveryCount: 0,
    ...extra,
  };
}

/** A stored record with its message as a store gives it back (no `encoded`). */
function withPersisted<T extends { message: Message }>(
  x: T,
): Omit<T, "message"> & { message: Omit<Message, "encoded"> } {
  return { ...x, message: persisted(x.message) };
}

/** The message as a store must give it back: every field but the `encoded` cache. */
export function persisted(m: Message): Omit<Message, "encoded"> {
  const { encoded: _encoded, ...rest } = m;
  return rest;
}

function assertMessage(actual: Message | undefined, expected: Message, what = "message"): void {
  assert.ok(actual, `${what} missing`);
  assert.equal(actual.encoded, undefined, `${what}: encoded must not be persisted`);
  assert.deepStrictEqual(persisted(actual), persisted(expected), what);
  assert.ok(Buffer.isBuffer(actual.payload), `${what}: payload is a Buffer`);
  const cd = actual.properties.correlationData;
  if (cd !== undefined) assert.ok(Buffer.isBuffer(cd), `${what}: correlationData is a Buffer`);
}

/** A comparable view of a state: messages without `encoded`, unordered collections sorted. */
function normalize(s: StoredState) {
  return {
    sessions: [...s.sessions].sort((a, b) => a.clientId.localeCompare(b.clientId)),
    deliveries: s.deliveries.map((d) => ({ ...d, message: persisted(d.message) })),
    retained: s.retained.map(persisted).sort((a, b) => a.topic.localeCompare(b.topic)),
    incomingQos2: [...s.incomingQos2].sort(
      (a, b) => a.clientId.localeCompare(b.clientId) || a.packetId - b.packetId,
    ),
    wills: s.wills.map(withPersisted).sort((a, b) => a.clientId.localeCompare(b.clientId)),
    groupMessages: s.groupMessages.map(withPersisted),
    queues: [...s.queues].sort((a, b) => a.name.localeCompare(b.name)),
    queueMessages: byQueue(s).map(withPersisted),
  };
}

/**
 * Queue messages in (queue, seq) order, after checking what every store must give: each queue's
 * messages together, in seq order. (Which queue comes first is not part of the contract.)
 */
function byQueue(s: StoredState): StoredQueueMessage[] {
  const seen = new Set<string>();
  let prev: StoredQueueMessage | undefined;
  for (const m of s.queueMessages) {
    if (prev?.queue === m.queue)
      assert.ok(m.seq > prev.seq, `queue ${m.queue}: seq ${m.seq} after ${prev.seq}`);
    else {
      assert.ok(!seen.has(m.queue), `queue ${m.queue}: its messages are not together`);
      seen.add(m.queue);
    }
    prev = m;
  }
  return [...s.queueMessages].sort((a, b) =>
    a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.seq - b.seq,
  );
}

const queueSeqs = (s: StoredState, name: string): number[] =>
  s.queueMessages.filter((m) => m.queue === name).map((m) => m.seq);

const seqs = (s: StoredState, clientId?: string): number[] =>
  s.deliveries.filter((d) => clientId === undefined || d.clientId === clientId).map((d) => d.seq);

export function storeConformance(name: string, make: () => Promise<StoreHarness>): void {
  /** Runs `fn` with a fresh harness and always cleans up. */
  const withStore = async (fn: (h: StoreHarness) => Promise<void>): Promise<void> => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  };
  /** Checks `check` on the live store, and after commit() on a reopened one. */
  const bothWays = async (h: StoreHarness, check: (s: StoredState) => void): Promise<void> => {
    check(await h.store.load());
    await h.store.commit();
    check(await (await h.reopen()).load());
  };

  describe(`Store conformance: ${name}`, () => {
    test("a new store loads empty", T, () =>
      withStore(async ({ store }) => {
        assert.deepStrictEqual(await store.load(), {
          sessions: [],
          deliveries: [],
          retained: [],
          incomingQos2: [],
          wills: [],
          groupMessages: [],
          queues: [],
          queueMessages: [],
        });
      }),
    );

    test("sessions: save, replace, delete", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveSession(session("c1"));
        s.saveSession(session("c2", { protocol: "amqp091", expiryInterval: 0xffffffff }));
        s.saveSession(session("c1", { disconnectedAt: 1_700_000_000_999, subscriptions: [] }));
        s.saveSession(session("c3"));
        s.deleteSession("c3");
        s.deleteSession("never-existed");
        await bothWays(h, (st) => {
          assert.deepStrictEqual(normalize(st).sessions, [
            session("c1", { disconnectedAt: 1_700_000_000_999, subscriptions: [] }),
            session("c2", { protocol: "amqp091", expiryInterval: 0xffffffff }),
          ]);
        });
      }),
    );

    test("deleteSession also removes that session's deliveries and incoming QoS 2 ids, only its own", T, () =>
      withStore(async (h) => {
        const s = h.store;
        for (const c of ["c1", "c2"]) {
          s.saveSession(session(c));
          s.saveDelivery(delivery(c, c === "c1" ? 1 : 2));
          s.saveDelivery(delivery(c, c === "c1" ? 3 : 4));
          s.addIncomingQos2(c, 10);
        }
        await s.commit();
        s.deleteSession("c1");
        await bothWays(h, (st) => {
          assert.deepStrictEqual(
            st.sessions.map((x) => x.clientId),
            ["c2"],
          );
          assert.deepStrictEqual(seqs(st), [2, 4]);
          assert.deepStrictEqual(st.incomingQos2, [{ clientId: "c2", packetId: 10 }]);
        });
      }),
    );

    test("deliveries: save, replace through queued -> publish -> pubrel, delete", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const d = delivery("c1", 5, { qos: 2, subscriptionId: 3 });
        s.saveDelivery(d);
        s.saveDelivery(delivery("c1", 6));
        await s.commit();
        s.saveDelivery({ ...d, state: "publish", packetId: 17 });
        await s.commit();
        assert.equal((await s.load()).deliveries[0]?.state, "publish");
        s.saveDelivery({ ...d, state: "pubrel", packetId: 17 });
        s.deleteDelivery("c1", 6);
        s.deleteDelivery("c1", 999);
        await bothWays(h, (st) => {
          assert.equal(st.deliveries.length, 1);
          const got = st.deliveries[0]!;
          assert.deepStrictEqual(
            { ...got, message: persisted(got.message) },
            { ...d, state: "pubrel", packetId: 17, message: persisted(d.message) },
          );
        });
      }),
    );

    test("deliveries: load orders by seq across clients, whatever the write order", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const order = [9, 2, 7, 1, 8, 3, 100, 50];
        for (const seq of order) s.saveDelivery(delivery(seq % 2 ? "odd" : "even", seq));
        await bothWays(h, (st) => {
          assert.deepStrictEqual(
            seqs(st),
            [...order].sort((a, b) => a - b),
          );
          assert.deepStrictEqual(seqs(st, "odd"), [1, 3, 7, 9]);
        });
      }),
    );

    test("deliveries: optional fields absent stay absent", T, () =>
      withStore(async (h) => {
        h.store.saveDelivery(delivery("c", 1, { retain: true, qos: 0 }));
        await bothWays(h, (st) => {
          const d = st.deliveries[0]!;
          assert.equal("packetId" in d, false);
          assert.equal("subscriptionId" in d, false);
          assert.equal(d.retain, true);
          assert.equal(d.qos, 0);
        });
      }),
    );

    test("updateDelivery: sets packet id and state, and nothing else", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const d = delivery("c1", 5, { qos: 2, subscriptionId: 3, retain: true, message: fullMessage() });
        s.saveDelivery(d);
        s.saveDelivery(delivery("c1", 6));
        await s.commit();
        s.updateDelivery("c1", 5, 17, "publish");
        await s.commit();
        assert.deepStrictEqual(
          normalize(await s.load()).deliveries,
          [{ ...d, packetId: 17, state: "publish" }, delivery("c1", 6)].map((x) => ({
            ...x,
            message: persisted(x.message),
          })),
        );
        s.updateDelivery("c1", 5, 17, "pubrel");
        await s.commit();
        const st = await s.load();
        assert.equal(st.deliveries[0]!.state, "pubrel");
        assert.equal(st.deliveries[0]!.packetId, 17);
        assertMessage(st.deliveries[0]!.message, d.message);
        // Back to queued (e.g. a session that lost its in-flight window): undefined clears the id.
        s.updateDelivery("c1", 5, undefined, "queued");
        await bothWays(h, (st) => {
          assert.equal(st.deliveries[0]!.state, "queued");
          assert.equal("packetId" in st.deliveries[0]!, false);
          assert.equal(st.deliveries[0]!.subscriptionId, 3);
        });
      }),
    );

    test("updateDelivery: a delivery that does not exist stays absent", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveSession(session("c"));
        s.saveDelivery(delivery("c", 1));
        await s.commit();
        s.updateDelivery("c", 2, 1, "publish"); // never saved
        s.updateDelivery("other", 1, 1, "publish"); // another client's seq 1
        s.deleteDelivery("c", 1);
        s.updateDelivery("c", 1, 1, "publish"); // deleted (in this batch)
        await s.commit();
        assert.deepStrictEqual((await s.load()).deliveries, []);
        s.saveDelivery(delivery("c", 3));
        await s.commit();
        s.deleteDelivery("c", 3);
        await s.commit();
        s.updateDelivery("c", 3, 1, "publish"); // deleted (committed)
        await bothWays(h, (st) => assert.deepStrictEqual(st.deliveries, []));
      }),
    );

    test("updateDelivery in the same batch as other writes to the row applies in order", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveSession(session("c"));
        // saved then updated before any commit: one row with the update
        const d1 = delivery("c", 1);
        s.saveDelivery(d1);
        s.updateDelivery("c", 1, 7, "publish");
        s.updateDelivery("c", 1, 7, "pubrel"); // the last update wins
        // updated, then saved again: the save replaces the whole row
        s.saveDelivery(delivery("c", 2));
        await s.commit();
        s.updateDelivery("c", 2, 8, "publish");
        s.saveDelivery(delivery("c", 2, { state: "publish", packetId: 9 }));
        // updated, then deleted: gone
        s.saveDelivery(delivery("c", 3));
        await s.commit();
        s.updateDelivery("c", 3, 10, "publish");
        s.deleteDelivery("c", 3);
        // deleted, saved again, updated: there, updated
        s.deleteDelivery("c", 4);
        s.saveDelivery(delivery("c", 4));
        s.updateDelivery("c", 4, 11, "publish");
        // saved, session deleted, updated: gone with the session
        s.saveSession(session("gone"));
        s.saveDelivery(delivery("gone", 5));
        s.deleteSession("gone");
        s.updateDelivery("gone", 5, 12, "publish");
        await bothWays(h, (st) => {
          assert.deepStrictEqual(
            st.deliveries.map((d) => [d.clientId, d.seq, d.packetId, d.state]),
            [
              ["c", 1, 7, "pubrel"],
              ["c", 2, 9, "publish"],
              ["c", 4, 11, "publish"],
            ],
          );
          assertMessage(st.deliveries[0]!.message, d1.message);
        });
        // The caller's object was copied at saveDelivery: an update does not reach it.
        assert.equal(d1.state, "queued");
        assert.equal("packetId" in d1, false);
      }),
    );

    test("retained: set, replace, delete", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.setRetained(message("a/1", "one"));
        s.setRetained(message("a/2", "two"));
        s.setRetained(message("a/3", "three"));
        await s.commit();
        s.setRetained(message("a/1", "one again", { retain: true }));
        s.deleteRetained("a/2");
        s.deleteRetained("not/there");
        await bothWays(h, (st) => {
          assert.deepStrictEqual(normalize(st).retained, [
            persisted(message("a/1", "one again", { retain: true })),
            persisted(message("a/3", "three")),
          ]);
        });
      }),
    );

    test("incoming QoS 2 ids: add (idempotent), delete [MQTT-4.3.3]", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.addIncomingQos2("c1", 1);
        s.addIncomingQos2("c1", 1);
        s.addIncomingQos2("c1", 65535);
        s.addIncomingQos2("c2", 1);
        await s.commit();
        s.deleteIncomingQos2("c1", 1);
        s.deleteIncomingQos2("c1", 2);
        await bothWays(h, (st) => {
          assert.deepStrictEqual(normalize(st).incomingQos2, [
            { clientId: "c1", packetId: 65535 },
            { clientId: "c2", packetId: 1 },
          ]);
        });
      }),
    );

    test("messages round-trip exactly: every property, zero bytes, encoded dropped", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const full = fullMessage("full/topic");
        const bare = message("bare", Buffer.alloc(0), { qos: 0, publisherId: "" });
        const emptyish = message("emptyish", Buffer.alloc(3), {
          properties: { correlationData: Buffer.alloc(0), userProperties: [], payloadIsUtf8: true },
        });
        s.saveDelivery(delivery("c", 1, { message: full }));
        s.saveDelivery(delivery("c", 2, { message: bare }));
        s.saveDelivery(delivery("c", 3, { message: emptyish }));
        s.setRetained(full);
        s.setRetained(bare);
        s.setRetained(emptyish);
        await bothWays(h, (st) => {
          const byTopic = new Map(st.retained.map((m) => [m.topic, m]));
          for (const [i, m] of [full, bare, emptyish].entries()) {
            assertMessage(st.deliveries[i]?.message, m, `delivery ${m.topic}`);
            assertMessage(byTopic.get(m.topic), m, `retained ${m.topic}`);
          }
          const props = st.deliveries[1]!.message.properties;
          assert.deepStrictEqual(Object.keys(props), [], "absent properties stay absent");
          assert.equal("publisherUser" in st.deliveries[1]!.message, false);
        });
      }),
    );

    test("messages round-trip exactly: 1 MiB payloads with every byte value", T, () =>
      withStore(async (h) => {
        const big = Buffer.alloc(1024 * 1024);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
        const m = message("big", big);
        h.store.saveDelivery(delivery("c", 1, { message: m }));
        h.store.setRetained(message("big", Buffer.from(big).reverse()));
        await bothWays(h, (st) => {
          assert.ok(st.deliveries[0]!.message.payload.equals(big));
          assert.ok(st.retained[0]!.payload.equals(Buffer.from(big).reverse()));
        });
      }),
    );

    test("a write keeps the value it was given, whatever the caller mutates afterwards", T, () =>
      withStore(async (h) => {
        const d = delivery("c", 1);
        const sess = session("c");
        h.store.saveDelivery(d);
        h.store.saveSession(sess);
        d.state = "publish";
        d.packetId = 5;
        sess.subscriptions.push({
          filter: "x",
          qos: 0,
          noLocal: false,
          retainAsPublished: false,
          retainHandling: 0,
        });
        await bothWays(h, (st) => {
          assert.equal(st.deliveries[0]!.state, "queued");
          assert.equal("packetId" in st.deliveries[0]!, false);
          assert.equal(st.sessions[0]!.subscriptions.length, 2);
        });
      }),
    );

    test("writes to the same row in one batch apply in order", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveDelivery(delivery("c", 1));
        s.deleteDelivery("c", 1); // saved then acked: gone
        s.deleteDelivery("c", 2);
        s.saveDelivery(delivery("c", 2)); // deleted then saved: there
        s.saveDelivery(delivery("c", 3));
        s.saveDelivery(delivery("c", 3, { state: "publish", packetId: 1 })); // last wins
        s.setRetained(message("r", "1"));
        s.deleteRetained("r");
        s.setRetained(message("r", "2"));
        s.addIncomingQos2("c", 9);
        s.deleteIncomingQos2("c", 9);
        s.saveSession(session("gone"));
        s.saveDelivery(delivery("gone", 4));
        s.addIncomingQos2("gone", 1);
        s.deleteSession("gone");
        s.saveSession(session("gone")); // a new session after the delete: no deliveries, no ids
        s.saveDelivery(delivery("gone", 5));
        await bothWays(h, (st) => {
          assert.deepStrictEqual(seqs(st), [2, 3, 5]);
          assert.equal(st.deliveries[1]!.state, "publish");
          assert.equal(st.retained.length, 1);
          assert.equal(st.retained[0]!.payload.toString(), "2");
          assert.deepStrictEqual(st.incomingQos2, []);
          assert.deepStrictEqual(
            st.sessions.map((x) => x.clientId),
            ["gone"],
          );
        });
      }),
    );

    test("commit() then reopen gives the same state", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveSession(session("c1"));
        s.saveSession(session("c2", { disconnectedAt: 5 }));
        for (let i = 1; i <= 20; i++) s.saveDelivery(delivery(i % 3 ? "c1" : "c2", i));
        s.saveDelivery(delivery("c1", 21, { message: fullMessage(), state: "pubrel", packetId: 3 }));
        s.setRetained(fullMessage("ret/full"));
        s.setRetained(message("ret/plain"));
        s.addIncomingQos2("c1", 4);
        const before = normalize(await s.load());
        await s.commit();
        const after = normalize(await (await h.reopen()).load());
        assert.deepStrictEqual(after, before);
      }),
    );

    test("close() makes pending writes durable", T, () =>
      withStore(async (h) => {
        h.store.saveDelivery(delivery("c", 1));
        h.store.setRetained(message("x"));
        await h.store.close();
        const st = await (await h.reopen()).load();
        assert.deepStrictEqual(seqs(st), [1]);
        assert.equal(st.retained.length, 1);
      }),
    );

    test("many writes in one tick, each followed by commit(), all commit together", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const n = 2000;
        const commits: Promise<void>[] = [];
        for (let i = 1; i <= n; i++) {
          s.saveDelivery(delivery(`c${i % 10}`, i));
          commits.push(s.commit());
        }
        await Promise.all(commits);
        const st = await (await h.reopen()).load();
        assert.equal(st.deliveries.length, n);
        assert.deepStrictEqual(
          seqs(st),
          Array.from({ length: n }, (_, i) => i + 1),
        );
      }),
    );

    test("wills: save, replace, delete; a full message round-trips", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveWill(will("c1"));
        s.saveWill(will("c2", { message: fullMessage("will/full") }));
        s.saveWill(will("c3"));
        await s.commit();
        s.saveWill(will("c1", { dueAt: 1_700_000_200_000, message: message("will/c1", "second") }));
        s.deleteWill("c3");
        s.deleteWill("never-existed");
        await bothWays(h, (st) => {
          const wills = normalize(st).wills;
          assert.deepStrictEqual(wills, [
            withPersisted(will("c1", { dueAt: 1_700_000_200_000, message: message("will/c1", "second") })),
            withPersisted(will("c2", { message: fullMessage("will/full") })),
          ]);
          const full = st.wills.find((w) => w.clientId === "c2")!;
          assertMessage(full.message, fullMessage("will/full"), "will message");
        });
      }),
    );

    test("wills: deleteSession does not delete the client's will (it outlives the session)", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveSession(session("c1"));
        s.saveWill(will("c1"));
        await s.commit();
        s.deleteSession("c1");
        s.saveSession(session("c2"));
        s.saveWill(will("c2"));
        s.deleteSession("c2"); // same batch
        await bothWays(h, (st) => {
          assert.deepStrictEqual(st.sessions, []);
          assert.deepStrictEqual(
            normalize(st).wills.map((w) => w.clientId),
            ["c1", "c2"],
          );
        });
      }),
    );

    test("group messages: save, replace, delete; load orders by seq across groups", T, () =>
      withStore(async (h) => {
        const s = h.store;
        const order = [9, 2, 7, 1, 8, 3];
        for (const seq of order) s.saveGroupMessage(groupMessage(seq % 2 ? GROUP_A : GROUP_B, seq));
        await s.commit();
        s.saveGroupMessage(groupMessage(GROUP_A, 7, { qos: 2, message: fullMessage("grp/7") }));
        s.deleteGroupMessage(GROUP_B, 8);
        s.deleteGroupMessage(GROUP_A, 8); // wrong group: nothing
        s.deleteGroupMessage("g1", 9); // a prefix of GROUP_A is another group: nothing
        await bothWays(h, (st) => {
          assert.deepStrictEqual(
            st.groupMessages.map((m) => m.seq),
            [1, 2, 3, 7, 9],
          );
          assert.deepStrictEqual(
            st.groupMessages.filter((m) => m.group === GROUP_B).map((m) => m.seq),
            [2],
          );
          const m7 = st.groupMessages.find((m) => m.seq === 7)!;
          assert.equal(m7.group, GROUP_A);
          assert.equal(m7.qos, 2);
          assertMessage(m7.message, fullMessage("grp/7"), "group message 7");
          assert.deepStrictEqual(normalize(st).groupMessages[0], withPersisted(groupMessage(GROUP_A, 1)));
        });
      }),
    );

    test("queues: save, replace, delete; arguments round-trip", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveQueue(queue("orders"));
        s.saveQueue(queue("bare", { arguments: {}, autoDelete: true, durable: false }));
        s.saveQueue(queue("doomed"));
        await s.commit();
        const args = {
          maxLength: 5,
          maxLengthBytes: 1_048_576,
          overflow: "drop-head",
          messageTtl: 60_000,
          deadLetterQueue: "dead letters ü",
          deliveryLimit: 3,
        } as const;
        s.saveQueue(queue("orders", { arguments: { ...args }, createdAt: 5 }));
        s.deleteQueue("doomed");
        s.deleteQueue("never-existed");
        await bothWays(h, (st) => {
          assert.deepStrictEqual(normalize(st).queues, [
            queue("bare", { arguments: {}, autoDelete: true, durable: false }),
            queue("orders", { arguments: { ...args }, createdAt: 5 }),
          ]);
        });
      }),
    );

    test("queue messages: save, replace (delivery count), delete; ordered by seq in each queue", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveQueue(queue("a"));
        s.saveQueue(queue("b"));
        const order = [9, 2, 7, 1, 8, 3, 100, 50];
        for (const seq of order) s.saveQueueMessage(queueMessage(seq % 2 ? "a" : "b", seq));
        await s.commit();
        s.saveQueueMessage(queueMessage("a", 7, { deliveryCount: 2 }));
        s.saveQueueMessage(queueMessage("b", 2, { message: fullMessage("q/full") }));
        s.deleteQueueMessage("b", 8);
        s.deleteQueueMessage("a", 8); // wrong queue: nothing
        await bothWays(h, (st) => {
          assert.deepStrictEqual(queueSeqs(st, "a"), [1, 3, 7, 9]);
          assert.deepStrictEqual(queueSeqs(st, "b"), [2, 50, 100]);
          const n = normalize(st).queueMessages;
          assert.equal(n.length, 7);
          assert.deepStrictEqual(
            n.find((m) => m.queue === "a" && m.seq === 7),
            withPersisted(queueMessage("a", 7, { deliveryCount: 2 })),
          );
          assertMessage(
            st.queueMessages.find((m) => m.queue === "b" && m.seq === 2)?.message,
            fullMessage("q/full"),
            "queue message",
          );
        });
      }),
    );

    test(
      "deleteQueue removes the queue's messages, only its own; a queue re-created after it is empty",
      T,
      () =>
        withStore(async (h) => {
          const s = h.store;
          for (const name of ["keep", "drop", "again"]) {
            s.saveQueue(queue(name));
            for (let seq = 1; seq <= 3; seq++) s.saveQueueMessage(queueMessage(name, seq));
          }
          await s.commit();
          s.deleteQueue("drop");
          // All in one batch: messages saved, the queue deleted, the queue re-created with a new message.
          s.saveQueueMessage(queueMessage("again", 4));
          s.deleteQueue("again");
          s.saveQueue(queue("again", { createdAt: 9 }));
          s.saveQueueMessage(queueMessage("again", 5));
          await bothWays(h, (st) => {
            assert.deepStrictEqual(normalize(st).queues, [queue("again", { createdAt: 9 }), queue("keep")]);
            assert.deepStrictEqual(queueSeqs(st, "keep"), [1, 2, 3]);
            assert.deepStrictEqual(queueSeqs(st, "drop"), []);
            assert.deepStrictEqual(queueSeqs(st, "again"), [5]);
          });
        }),
    );

    test("new kinds: writes to the same row in one batch apply in order", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveWill(will("w1"));
        s.deleteWill("w1"); // saved then removed (the client reconnected): gone
        s.deleteWill("w2");
        s.saveWill(will("w2", { dueAt: 1 })); // deleted then saved: there
        s.saveWill(will("w2", { dueAt: 2 })); // last wins
        s.saveGroupMessage(groupMessage(GROUP_A, 1));
        s.deleteGroupMessage(GROUP_A, 1);
        s.saveGroupMessage(groupMessage(GROUP_A, 2));
        s.saveQueue(queue("q"));
        s.deleteQueue("q");
        s.saveQueue(queue("q", { createdAt: 2 }));
        s.saveQueueMessage(queueMessage("q", 1));
        s.saveQueueMessage(queueMessage("q", 1, { deliveryCount: 1 }));
        s.saveQueueMessage(queueMessage("q", 2));
        s.deleteQueueMessage("q", 2);
        s.saveQueue(queue("gone"));
        s.saveQueueMessage(queueMessage("gone", 1));
        s.deleteQueue("gone");
        s.deleteQueueMessage("gone", 1); // a later write to a message must not drop the deleteQueue
        s.saveQueue(queue("gone2"));
        s.saveQueueMessage(queueMessage("gone2", 1));
        s.deleteQueue("gone2");
        s.saveQueue(queue("gone2")); // nor must a later saveQueue
        await bothWays(h, (st) => {
          assert.deepStrictEqual(
            normalize(st).wills.map((w) => [w.clientId, w.dueAt]),
            [["w2", 2]],
          );
          assert.deepStrictEqual(
            st.groupMessages.map((m) => m.seq),
            [2],
          );
          assert.deepStrictEqual(
            normalize(st).queues.map((q) => [q.name, q.createdAt]),
            [
              ["gone2", queue("gone2").createdAt],
              ["q", 2],
            ],
          );
          assert.deepStrictEqual(
            normalize(st).queueMessages.map((m) => [m.queue, m.seq, m.deliveryCount]),
            [["q", 1, 1]],
          );
        });
      }),
    );

    test("new kinds: a write keeps the value it was given, whatever the caller mutates afterwards", T, () =>
      withStore(async (h) => {
        const qm = queueMessage("q", 1);
        const q = queue("q");
        const w = will("c");
        const g = groupMessage(GROUP_A, 1);
        h.store.saveQueue(q);
        h.store.saveQueueMessage(qm);
        h.store.saveWill(w);
        h.store.saveGroupMessage(g);
        qm.deliveryCount = 5;
        q.arguments.maxLength = 1;
        q.autoDelete = true;
        w.dueAt = 0;
        g.qos = 0;
        await bothWays(h, (st) => {
          assert.equal(st.queueMessages[0]!.deliveryCount, 0);
          assert.deepStrictEqual(st.queues[0], queue("q"));
          assert.equal(st.wills[0]!.dueAt, will("c").dueAt);
          assert.equal(st.groupMessages[0]!.qos, 1);
        });
      }),
    );

    test("new kinds: commit() then reopen gives the same state", T, () =>
      withStore(async (h) => {
        const s = h.store;
        s.saveWill(will("c1", { message: fullMessage("will/c1") }));
        s.saveWill(will("c2"));
        for (let i = 1; i <= 20; i++) s.saveGroupMessage(groupMessage(i % 3 ? GROUP_A : GROUP_B, i));
        s.saveQueue(queue("z"));
        s.saveQueue(queue("a", { arguments: { messageTtl: 1000 } }));
        for (let i = 1; i <= 20; i++)
          s.saveQueueMessage(queueMessage(i % 2 ? "z" : "a", i, { deliveryCount: i % 4 }));
        s.setRetained(message("ret/plain"));
        const before = normalize(await s.load());
        await s.commit();
        const after = normalize(await (await h.reopen()).load());
        assert.deepStrictEqual(after, before);
        assert.equal(after.groupMessages.length, 20);
        assert.equal(after.queueMessages.length, 20);
      }),
    );

    test("new kinds: close() makes pending writes durable", T, () =>
      withStore(async (h) => {
        h.store.saveWill(will("c"));
        h.store.saveGroupMessage(groupMessage(GROUP_B, 1));
        h.store.saveQueue(queue("q"));
        h.store.saveQueueMessage(queueMessage("q", 1));
        await h.store.close();
        const st = await (await h.reopen()).load();
        assert.equal(st.wills.length, 1);
        assert.equal(st.groupMessages.length, 1);
        assert.equal(st.groupMessages[0]!.group, GROUP_B);
        assert.equal(st.queues.length, 1);
        assert.equal(st.queueMessages.length, 1);
      }),
    );

    test("commit() with nothing pending resolves", T, () =>
      withStore(async ({ store }) => {
        await store.commit();
        await store.commit();
      }),
    );
  });
}
