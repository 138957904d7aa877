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
import type { Store, StoredDelivery, StoredSession, StoredState } from "../../src/store/store.js";

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
  };
}

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

    test("commit() with nothing pending resolves", T, () =>
      withStore(async ({ store }) => {
        await store.commit();
        await store.commit();
      }),
    );
  });
}
