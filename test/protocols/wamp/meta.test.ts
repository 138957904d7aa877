/**
 * The meta API (WAMP advanced profile: "Session Meta API", "Registration Meta API", "Subscription
 * Meta API"), with autobahn. Sessions come from the core's Presence record, so an MQTT client is a
 * session too.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { type AutobahnClient, delay, joinAutobahn, until, VARIANTS } from "../../helpers/wamp.js";

const V = VARIANTS[1]!; // WebSocket/MessagePack

describe("WAMP meta API", () => {
  let b: TestBroker;
  let a: AutobahnClient;
  let c: AutobahnClient;
  before(async () => {
    b = await startTestBroker({ config: (cfg) => (cfg.wamp.eventHistory = 10) });
    a = await joinAutobahn(b, V);
    c = await joinAutobahn(b, VARIANTS[3]!);
  });
  after(async () => {
    await a.close();
    await c.close();
    await b.close();
  });

  test("wamp.session.count/list/get list every protocol's sessions; get describes one", async () => {
    const mqtt = await connect(b.mqttUrl, { clientId: "meta-mqtt", username: "dev" });
    try {
      const ids: number[] = await a.session.call("wamp.session.list");
      assert.equal(await a.session.call("wamp.session.count"), ids.length);
      assert.ok(ids.includes(a.session.id) && ids.includes(c.session.id));
      assert.equal(ids.length, 3, "two WAMP sessions and one MQTT client");
      const mine = await a.session.call("wamp.session.get", [c.session.id]);
      assert.equal(mine.session, c.session.id);
      assert.equal(mine.authrole, "anonymous");
      assert.equal(mine.authmethod, "anonymous");
      assert.match(mine.transport.type, /^tcp\/json$/);
      const other = ids.find((id) => id !== a.session.id && id !== c.session.id)!;
      const m = await a.session.call("wamp.session.get", [other]);
      assert.equal(m.protocol, "mqtt");
      assert.equal(m.authid, "dev");
      assert.deepEqual(
        await a.session.call("wamp.session.list", [["anonymous"]]),
        ids.filter((id) => id !== other),
      );
      await assert.rejects(
        a.session.call("wamp.session.get", [12345]),
        (e: { error: string }) => e.error === "wamp.error.no_such_session",
      );
    } finally {
      await endClient(mqtt);
    }
  });

  test("wamp.session.on_join / on_leave fire for WAMP and MQTT sessions", async () => {
    const joins: Array<{ session: number; protocol?: string }> = [];
    const leaves: number[] = [];
    await a.session.subscribe("wamp.session.on_join", (args: [{ session: number; protocol: string }]) =>
      joins.push(args[0]),
    );
    await a.session.subscribe("wamp.session.on_leave", (args: [number]) => leaves.push(args[0]));
    const x = await joinAutobahn(b, V);
    const mqtt = await connect(b.mqttUrl, { clientId: "meta-join" });
    await until(() => joins.length === 2, "two joins");
    assert.equal(joins[0]!.session, x.session.id);
    assert.equal(joins[1]!.protocol, "mqtt");
    await x.close();
    await endClient(mqtt);
    await until(() => leaves.length === 2, "two leaves");
    assert.equal(leaves[0], joins[0]!.session);
    assert.equal(leaves[1], joins[1]!.session);
  });

  test("wamp.session.kill ends another session with GOODBYE wamp.close.killed; a session cannot kill itself", async () => {
    const victim = await joinAutobahn(b, V);
    await a.session.call("wamp.session.kill", [victim.session.id]);
    const closed = await victim.closed;
    assert.equal(closed.details.reason, "wamp.close.killed");
    await assert.rejects(
      a.session.call("wamp.session.kill", [a.session.id]),
      (e: { error: string }) => e.error === "wamp.error.invalid_argument",
    );
  });

  test("wamp.registration.*: list, lookup, match, get, list_callees, count_callees, and the events", async () => {
    const events: string[] = [];
    for (const ev of ["on_create", "on_register", "on_unregister", "on_delete"]) {
      await a.session.subscribe(`wamp.registration.${ev}`, () => events.push(ev));
    }
    const r1 = await c.session.register("com.meta.proc", () => 1, { invoke: "roundrobin" });
    const r2 = await a.session.register("com.meta.proc", () => 2, { invoke: "roundrobin" });
    const rp = await c.session.register("com.meta", () => 3, { match: "prefix" });
    assert.equal(r1.id, r2.id);
    const list = await a.session.call("wamp.registration.list");
    assert.ok(list.exact.includes(r1.id) && list.prefix.includes(rp.id));
    assert.equal(await a.session.call("wamp.registration.lookup", ["com.meta.proc"]), r1.id);
    assert.equal(await a.session.call("wamp.registration.lookup", ["com.meta", { match: "prefix" }]), rp.id);
    assert.equal(await a.session.call("wamp.registration.lookup", ["com.none"]), null);
    assert.equal(await a.session.call("wamp.registration.match", ["com.meta.other"]), rp.id);
    const got = await a.session.call("wamp.registration.get", [r1.id]);
    assert.deepEqual(
      { uri: got.uri, match: got.match, invoke: got.invoke },
      { uri: "com.meta.proc", match: "exact", invoke: "roundrobin" },
    );
    assert.deepEqual(
      (await a.session.call("wamp.registration.list_callees", [r1.id])).sort(),
      [a.session.id, c.session.id].sort(),
    );
    assert.equal(await a.session.call("wamp.registration.count_callees", [r1.id]), 2);
    await a.session.unregister(r2);
    await c.session.unregister(r1);
    await until(() => events.filter((e) => e === "on_delete").length === 1, "on_delete");
    assert.deepEqual(events.slice(0, 4), ["on_create", "on_register", "on_register", "on_create"]);
    assert.deepEqual(events.slice(-3), ["on_unregister", "on_unregister", "on_delete"]);
    await assert.rejects(
      a.session.call("wamp.registration.get", [r1.id]),
      (e: { error: string }) => e.error === "wamp.error.no_such_registration",
    );
  });

  test("wamp.subscription.*: list, lookup, match, get, list/count_subscribers, get_events, and the events", async () => {
    const events: string[] = [];
    for (const ev of ["on_create", "on_subscribe", "on_unsubscribe", "on_delete"]) {
      await a.session.subscribe(`wamp.subscription.${ev}`, () => events.push(ev));
    }
    await delay(50);
    events.length = 0; // the meta subscriptions above announced themselves
    const s1 = await c.session.subscribe("com.meta.topic", () => {});
    const s2 = await a.session.subscribe("com.meta.topic", () => {});
    const sw = await c.session.subscribe("com..topic", () => {}, { match: "wildcard" });
    assert.equal(s1.id, s2.id);
    const list = await a.session.call("wamp.subscription.list");
    assert.ok(list.exact.includes(s1.id) && list.wildcard.includes(sw.id));
    assert.equal(await a.session.call("wamp.subscription.lookup", ["com.meta.topic"]), s1.id);
    assert.equal(
      await a.session.call("wamp.subscription.lookup", ["com..topic", { match: "wildcard" }]),
      sw.id,
    );
    assert.deepEqual(
      (await a.session.call("wamp.subscription.match", ["com.meta.topic"])).sort(),
      [s1.id, sw.id].sort(),
    );
    const got = await a.session.call("wamp.subscription.get", [s1.id]);
    assert.deepEqual({ uri: got.uri, match: got.match }, { uri: "com.meta.topic", match: "exact" });
    assert.equal(await a.session.call("wamp.subscription.count_subscribers", [s1.id]), 2);
    assert.deepEqual(
      (await a.session.call("wamp.subscription.list_subscribers", [s1.id])).sort(),
      [a.session.id, c.session.id].sort(),
    );

    // Event history (eventHistory: 10): newest first.
    for (let i = 0; i < 3; i++)
      await c.session.publish("com.meta.topic", [i], { n: i }, { acknowledge: true });
    await delay(50);
    const history = await a.session.call("wamp.subscription.get_events", [s1.id, 2]);
    assert.deepEqual(
      history.map((e: { args: unknown[]; kwargs: unknown }) => [e.args, e.kwargs]),
      [
        [[2], { n: 2 }],
        [[1], { n: 1 }],
      ],
    );

    await a.session.unsubscribe(s2);
    await c.session.unsubscribe(s1);
    await until(() => events.includes("on_delete"), "on_delete");
    assert.deepEqual(events.slice(0, 4), ["on_create", "on_subscribe", "on_subscribe", "on_create"]);
    assert.deepEqual(events.slice(-3), ["on_unsubscribe", "on_unsubscribe", "on_delete"]);
  });
});
