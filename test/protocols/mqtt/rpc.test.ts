/**
 * Routed RPC over MQTT (docs/rpc.md "MQTT") with MQTT.js v5 and v3.1.1 against a WAMP callee
 * (autobahn) and MQTT 5 callees: results, and each error (no such procedure, timeout, callee gone,
 * application error, not authorized) in each caller's own form.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import autobahn from "autobahn";
import type { MqttClient } from "mqtt";
import { type Action, AllowAllAuth, type Principal } from "../../../src/core/auth.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { type AutobahnClient, joinAutobahn, until, VARIANTS } from "../../helpers/wamp.js";
import { call5, call311, mqttCallee } from "./rpc-helpers.js";

/** Allows everything but calling `com.secret` and registering `com.noreg`. */
class RpcAcl extends AllowAllAuth {
  override authorize(_p?: Principal, action?: Action, topic?: string): boolean {
    return (
      !(action === "call" && topic === "com.secret") && !(action === "register" && topic === "com.noreg")
    );
  }
}

const T = { timeout: 30_000 };
const WAMP_ARGS = "application/x-wamp+json";

describe("MQTT RPC through the core Dealer", () => {
  let b: TestBroker;
  let wamp: AutobahnClient;
  let v5: MqttClient;
  let v3: MqttClient;
  const callees: MqttClient[] = [];

  before(async () => {
    b = await startTestBroker({
      auth: new RpcAcl(),
      config: (c) => {
        c.rpc.timeoutMs = 1500;
      },
    });
    wamp = await joinAutobahn(b, VARIANTS[0]!);
    await wamp.session.register("com.wamp.add", (args: number[], kwargs: { scale?: number }) => {
      return (args[0]! + args[1]!) * (kwargs?.scale ?? 1);
    });
    await wamp.session.register("com.wamp.fail", () => {
      throw new autobahn.Error("com.example.oops", ["bad"], { code: 7 });
    });
    await wamp.session.register("com.wamp.slow", () => new Promise(() => {}));
    const add = await mqttCallee(b.mqttUrl, "com.mqtt.add", (payload) => {
      const [args] = JSON.parse(payload.toString()) as [number[]];
      return { payload: JSON.stringify(args[0]! + args[1]!), contentType: "application/json" };
    });
    const fail = await mqttCallee(b.mqttUrl, "com.mqtt.fail", () => ({
      payload: JSON.stringify([["bad"], { code: 7 }]),
      contentType: WAMP_ARGS,
      error: "com.example.oops",
    }));
    callees.push(add.client, fail.client);
    v5 = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "caller5" });
    v3 = await connect(b.mqttUrl, { protocolVersion: 4, clientId: "caller311" });
  });

  after(async () => {
    await Promise.all([...callees, v5, v3].map((c) => endClient(c, true)));
    await wamp.close();
    await b.close();
  });

  for (const procedure of ["com.wamp.add", "com.mqtt.add"]) {
    test(
      `MQTT 5 caller -> ${procedure}: the result on the Response Topic with the Correlation Data`,
      T,
      async () => {
        const r = await call5(v5, procedure, JSON.stringify([[2, 3], {}]), WAMP_ARGS);
        assert.equal(r.error, undefined);
        assert.equal(r.contentType, "application/json");
        assert.equal(r.payload.toString(), "5");
      },
    );

    test(`MQTT 3.1.1 caller -> ${procedure}: $rpc/<procedure>/<reply topic>, JSON body`, T, async () => {
      const r = await call311(v3, procedure, JSON.stringify({ args: [4, 5] }));
      assert.equal(r.result?.toString(), "9");
    });
  }

  test("a JSON body without a content type: {args, kwargs} or the single argument", T, async () => {
    const r = await call5(v5, "com.wamp.add", JSON.stringify({ args: [1, 2], kwargs: { scale: 10 } }));
    assert.equal(r.payload.toString(), "30");
  });

  for (const procedure of ["com.wamp.fail", "com.mqtt.fail"]) {
    test(
      `application error from ${procedure}: MQTT 5 user property error, args/kwargs as payload`,
      T,
      async () => {
        const r = await call5(v5, procedure, "");
        assert.equal(r.error, "com.example.oops");
        assert.equal(r.contentType, WAMP_ARGS);
        assert.deepEqual(JSON.parse(r.payload.toString()), [["bad"], { code: 7 }]);
      },
    );

    test(`application error from ${procedure}: MQTT 3.1.1 JSON on <reply topic>/error`, T, async () => {
      const r = await call311(v3, procedure, "");
      assert.deepEqual(r.error, { error: "com.example.oops", args: ["bad"], kwargs: { code: 7 } });
    });
  }

  test("no such procedure reaches both callers", T, async () => {
    const r = await call5(v5, "com.nobody", "x");
    assert.equal(r.error, "wamp.error.no_such_procedure");
    const r3 = await call311(v3, "com.nobody", "x");
    assert.equal(r3.error?.error, "wamp.error.no_such_procedure");
  });

  test("timeout (rpc.timeoutMs) reaches both callers as wamp.error.timeout", T, async () => {
    const [r, r3] = await Promise.all([call5(v5, "com.wamp.slow", "x"), call311(v3, "com.wamp.slow", "x")]);
    assert.equal(r.error, "wamp.error.timeout");
    assert.equal(r3.error?.error, "wamp.error.timeout");
  });

  test(
    "an MQTT callee that disconnects with calls pending: its callers get wamp.error.canceled",
    T,
    async () => {
      // It leaves once both calls have reached it, without answering either.
      const gone = await mqttCallee(b.mqttUrl, "com.mqtt.gone", () => {
        if (gone.invocations === 2) setImmediate(() => gone.client.end(true));
        return undefined;
      });
      const [r, r3] = await Promise.all([call5(v5, "com.mqtt.gone", "x"), call311(v3, "com.mqtt.gone", "x")]);
      assert.equal(r.error, "wamp.error.canceled");
      assert.equal(r.payload.toString(), "callee disconnected");
      assert.equal(r3.error?.error, "wamp.error.canceled");
      // Its registration went with it.
      await until(() => b.handle.router.dealer.match("com.mqtt.gone") === undefined, "unregistered");
    },
  );

  test(
    "the ACL's call action: refused calls get wamp.error.not_authorized (v5: PUBACK 0x87 too)",
    T,
    async () => {
      const r = await call5(v5, "com.secret", "x");
      assert.equal(r.error, "wamp.error.not_authorized");
      const r3 = await call311(v3, "com.secret", "x");
      assert.equal(r3.error?.error, "wamp.error.not_authorized");
      await assert.rejects(
        v5.publishAsync("$rpc/com.secret", "x", { qos: 1, properties: { responseTopic: "r/x" } }),
        (e: { code: number }) => e.code === 0x87,
      );
    },
  );

  test("the ACL's register action: SUBACK 0x87, and a 3.1.1 client cannot register (0x80)", T, async () => {
    const c = await connect(b.mqttUrl, { protocolVersion: 5 });
    await assert.rejects(
      c.subscribeAsync("$rpc/com.noreg", { qos: 1 }),
      (e: { packet: { granted: number[] } }) => {
        assert.deepEqual(e.packet.granted, [0x87]);
        return true;
      },
    );
    await endClient(c, true);
    await assert.rejects(
      v3.subscribeAsync("$rpc/com.v3.callee", { qos: 1 }),
      (e: { packet: { granted: number[] } }) => {
        assert.deepEqual(e.packet.granted, [0x80]);
        return true;
      },
    );
  });

  test("a QoS 1 call without a Response Topic is refused with PUBACK 0x83", T, async () => {
    await assert.rejects(
      v5.publishAsync("$rpc/com.wamp.add", "[1,2]", { qos: 1 }),
      (e: { code: number }) => e.code === 0x83,
    );
  });

  test("$rpc/ publishes are calls, not routed to topic subscribers", T, async () => {
    const watcher = await connect(b.mqttUrl, { protocolVersion: 5 });
    let seen = 0;
    watcher.on("message", () => seen++);
    await watcher.subscribeAsync("#", { qos: 0 });
    await call5(v5, "com.wamp.add", JSON.stringify([[1, 1], {}]), WAMP_ARGS);
    // The reply topic is an ordinary topic (the watcher sees the answer); the call and the
    // invocation are not.
    await until(() => seen >= 1, "the answer");
    assert.equal(seen, 1);
    await endClient(watcher, true);
  });

  test("$share/<group>/$rpc/<procedure>: a shared registration, invoked roundrobin", T, async () => {
    const answer = (n: string) => () => ({ payload: n });
    const a = await mqttCallee(b.mqttUrl, "com.mqtt.shared", answer("a"), "g1");
    const c = await mqttCallee(b.mqttUrl, "com.mqtt.shared", answer("c"), "g1");
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await call5(v5, "com.mqtt.shared", "")).payload.toString());
    assert.deepEqual(got.sort(), ["a", "a", "c", "c"]);
    // Unsubscribing unregisters: the other callee serves every call.
    await a.client.unsubscribeAsync("$share/g1/$rpc/com.mqtt.shared");
    for (let i = 0; i < 2; i++)
      assert.equal((await call5(v5, "com.mqtt.shared", "")).payload.toString(), "c");
    await Promise.all([endClient(a.client, true), endClient(c.client, true)]);
  });

  test(
    "a WAMP caller: an MQTT 5 callee that leaves gives wamp.error.canceled; a silent one its timeout",
    T,
    async () => {
      const gone = await mqttCallee(b.mqttUrl, "com.mqtt.gone2", () => {
        setImmediate(() => gone.client.end(true));
        return undefined;
      });
      await assert.rejects(wamp.session.call("com.mqtt.gone2"), (e: { error: string; args: unknown[] }) => {
        assert.equal(e.error, "wamp.error.canceled");
        assert.deepEqual(e.args, ["callee disconnected"]);
        return true;
      });
      const silent = await mqttCallee(b.mqttUrl, "com.mqtt.silent", () => undefined);
      await assert.rejects(
        wamp.session.call("com.mqtt.silent", [], {}, { timeout: 300 }),
        (e: { error: string }) => e.error === "wamp.error.timeout",
      );
      await endClient(silent.client, true);
    },
  );

  test("a WAMP caller calls an MQTT 5 callee", T, async () => {
    const r = await wamp.session.call("com.mqtt.add", [20, 22]);
    assert.equal(r, 42);
    await assert.rejects(wamp.session.call("com.mqtt.fail"), (e: { error: string; args: unknown[] }) => {
      assert.equal(e.error, "com.example.oops");
      assert.deepEqual(e.args, ["bad"]);
      return true;
    });
  });
});

test(
  "rpc.maxPendingCalls: a call past the limit gets PUBACK 0x97 and switchboard.error.too_many_calls",
  T,
  async () => {
    const b = await startTestBroker({
      config: (c) => {
        c.rpc.maxPendingCalls = 2;
      },
    });
    const silent = await mqttCallee(b.mqttUrl, "com.silent", () => undefined);
    const caller = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "busy" });
    try {
      await caller.subscribeAsync("busy/replies", { qos: 1 });
      const errors: string[] = [];
      caller.on("message", (_t, _p, packet) => {
        const e = packet.properties?.userProperties?.error;
        if (e !== undefined) errors.push(String(e));
      });
      const opts = { qos: 1 as const, properties: { responseTopic: "busy/replies" } };
      await caller.publishAsync("$rpc/com.silent", "1", opts);
      await caller.publishAsync("$rpc/com.silent", "2", opts);
      await assert.rejects(
        caller.publishAsync("$rpc/com.silent", "3", opts),
        (e: { code: number }) => e.code === 0x97,
      );
      await until(() => errors.length === 1, "the error answer");
      assert.deepEqual(errors, ["switchboard.error.too_many_calls"]);
    } finally {
      await Promise.all([endClient(caller, true), endClient(silent.client, true)]);
      await b.close();
    }
  },
);
