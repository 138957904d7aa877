/**
 * Routed RPC from XMPP (docs/rpc.md "XMPP") with @xmpp/client over TCP: `<iq type='set'><call
 * xmlns='urn:switchboard:rpc' procedure='...'>` answered by a WAMP callee (autobahn) and MQTT 5
 * callees; every error in its documented stanza error condition with the WAMP URI and args in
 * `<error xmlns='urn:switchboard:rpc' uri='...'>`; binary and awkward text kept exactly; a caller
 * that leaves with a call pending abandons it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import autobahn from "autobahn";
import type { MqttClient } from "mqtt";
import { type Action, AllowAllAuth, type Principal } from "../../../src/core/auth.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { type AutobahnClient, joinAutobahn, until, VARIANTS } from "../../helpers/wamp.js";
import { mqttCallee } from "../mqtt/rpc-helpers.js";
import { connectClient, type XmppTestClient, xml } from "./helpers.js";
import { RPC_NS, xmppCall } from "./rpc-helpers.js";

/** Allows everything but calling `com.secret`. */
class RpcAcl extends AllowAllAuth {
  override authorize(_p?: Principal, action?: Action, topic?: string): boolean {
    return !(action === "call" && topic === "com.secret");
  }
}

const T = { timeout: 20_000 };
const shortTimeout = (cfg: { rpc: { timeoutMs: number } }): void => {
  cfg.rpc.timeoutMs = 800;
};
const WAMP_ARGS = "application/x-wamp+json";
/** Text XML 1.0 cannot carry raw (a control character, U+FFFF) and markup characters. */
const AWKWARD = "a\u0001b\uFFFFc <&> \r\n\t ü";

describe("XMPP RPC caller through the core Dealer", () => {
  let b: TestBroker;
  let wamp: AutobahnClient;
  let c: XmppTestClient;
  const mqtt: MqttClient[] = [];
  let release: (() => void) | undefined;
  let holds = 0;

  before(async () => {
    b = await startTestBroker({ auth: new RpcAcl(), config: shortTimeout });
    wamp = await joinAutobahn(b, VARIANTS[0]!);
    const s = wamp.session;
    await s.register("com.wamp.add", (args: number[], kwargs?: { scale?: number }) => {
      return (args[0]! + args[1]!) * (kwargs?.scale ?? 1);
    });
    await s.register("com.wamp.fail", () => {
      throw new autobahn.Error("com.example.oops", ["bad"], { code: 7 });
    });
    await s.register("com.wamp.many", () => new autobahn.Result([1, "two"], { three: 3 }));
    await s.register("com.wamp.awkward", () => AWKWARD);
    await s.register("com.wamp.none", () => null);
    await s.register("com.wamp.slow", () => new Promise(() => {}));
    await s.register("com.wamp.hold", () => {
      holds++;
      return new Promise<string>((resolve) => {
        release = () => resolve("late");
      });
    });
    const add = await mqttCallee(b.mqttUrl, "com.mqtt.add", (payload) => {
      const [args] = JSON.parse(payload.toString()) as [number[]];
      return { payload: JSON.stringify(args[0]! + args[1]!), contentType: "application/json" };
    });
    // Echoes the invocation's bytes without a content type: bytes that are not UTF-8 stay binary.
    const echo = await mqttCallee(b.mqttUrl, "com.mqtt.echo", (payload) => ({ payload }));
    const fail = await mqttCallee(b.mqttUrl, "com.mqtt.fail", () => ({
      payload: JSON.stringify([["bad"], { code: 7 }]),
      contentType: WAMP_ARGS,
      error: "com.example.oops",
    }));
    mqtt.push(add.client, echo.client, fail.client);
    c = await connectClient(b, { username: "rpc-caller", resource: "r1" });
  });

  after(async () => {
    await c.stop();
    await Promise.all(mqtt.map((m) => endClient(m, true)));
    await wamp.close();
    await b.close();
  });

  test("XEP-0030: the server advertises urn:switchboard:rpc", T, async () => {
    const info = await c.xmpp.iqCaller.request(
      xml("iq", { type: "get", to: "localhost" }, xml("query", "http://jabber.org/protocol/disco#info")),
    );
    const features = info
      .getChild("query")
      .getChildren("feature")
      .map((f: { attrs: { var: string } }) => f.attrs.var);
    assert.ok(features.includes(RPC_NS));
  });

  test("WAMP callee: a JSON body {args, kwargs} gives an iq result with the JSON value", T, async () => {
    const r = await xmppCall(c, "com.wamp.add", JSON.stringify({ args: [2, 3], kwargs: { scale: 10 } }));
    assert.deepEqual(r, { type: "result", args: [50] });
    // The same over WebSocket (RFC 7395).
    const ws = await connectClient(b, { username: "rpc-ws", ws: true });
    try {
      assert.deepEqual(await xmppCall(ws, "com.wamp.add", '{"args": [2, 3]}'), { type: "result", args: [5] });
    } finally {
      await ws.stop();
    }
  });

  test("MQTT 5 callee: content-type='application/x-wamp+json' takes [args, kwargs] exactly", T, async () => {
    const r = await xmppCall(c, "com.mqtt.add", "[[4, 5], {}]", { "content-type": WAMP_ARGS });
    assert.deepEqual(r, { type: "result", args: [9] });
    // Without a 'to': the server answers too (RFC 6120 §10.3.3).
    const id = "no-to";
    const answer = c.waitFor((s) => s.is("iq") && s.attrs.id === id);
    await c.xmpp.send(
      xml(
        "iq",
        { type: "set", id },
        xml("call", { xmlns: RPC_NS, procedure: "com.mqtt.add" }, '{"args":[1,1]}'),
      ),
    );
    assert.equal((await answer).getChild("result", RPC_NS).text(), "2");
  });

  test("results: several values or kwargs are [args, kwargs]; none is an empty <result/>", T, async () => {
    assert.deepEqual(await xmppCall(c, "com.wamp.many"), {
      type: "result",
      args: [1, "two"],
      kwargs: { three: 3 },
    });
    // autobahn yields [null] for a null result: one JSON null.
    assert.deepEqual(await xmppCall(c, "com.wamp.none"), { type: "result", args: [null] });
  });

  test("text XML cannot carry raw (U+0001, U+FFFF) and markup come back exactly", T, async () => {
    assert.deepEqual(await xmppCall(c, "com.wamp.awkward"), { type: "result", args: [AWKWARD] });
  });

  test("binary: a base64 call reaches the callee as bytes, the bytes come back as base64", T, async () => {
    const bytes = Buffer.from([0, 1, 0, 0xff, 0xfe, 0, 0x80, 0]);
    const r = await xmppCall(c, "com.mqtt.echo", bytes.toString("base64"), { encoding: "base64" });
    assert.equal(r.type, "result");
    assert.ok(Buffer.isBuffer(r.args?.[0]));
    assert.ok((r.args![0] as Buffer).equals(bytes));
    // A text content type: the callee gets a string (its UTF-8 bytes), and a string comes back.
    const t = await xmppCall(c, "com.mqtt.echo", "plain ü", { "content-type": "text/plain" });
    assert.deepEqual(t, { type: "result", args: ["plain ü"] });
  });

  test("RFC 6120 §8.3.3.8 item-not-found: wamp.error.no_such_procedure", T, async () => {
    const r = await xmppCall(c, "com.nobody", "1");
    assert.deepEqual(r, {
      type: "error",
      condition: "item-not-found",
      errorType: "cancel",
      text: "wamp.error.no_such_procedure",
      uri: "wamp.error.no_such_procedure",
    });
  });

  for (const procedure of ["com.wamp.fail", "com.mqtt.fail"]) {
    test(
      `§8.3.3.21 undefined-condition: ${procedure}'s application error with its URI, args, kwargs`,
      T,
      async () => {
        const r = await xmppCall(c, procedure, "");
        assert.deepEqual(r, {
          type: "error",
          condition: "undefined-condition",
          errorType: "cancel",
          text: "com.example.oops",
          uri: "com.example.oops",
          args: ["bad"],
          kwargs: { code: 7 },
        });
      },
    );
  }

  test("§8.3.3.16 remote-server-timeout: wamp.error.timeout after rpc.timeoutMs", T, async () => {
    const started = Date.now();
    const r = await xmppCall(c, "com.wamp.slow", "1");
    assert.equal(r.condition, "remote-server-timeout");
    assert.equal(r.errorType, "wait");
    assert.equal(r.uri, "wamp.error.timeout");
    assert.ok(Date.now() - started >= 700, "not before the timeout");
  });

  test("§8.3.3.15 recipient-unavailable: the callee left, wamp.error.canceled", T, async () => {
    const gone = await mqttCallee(b.mqttUrl, "com.mqtt.gone", () => {
      setImmediate(() => gone.client.end(true));
      return undefined;
    });
    const r = await xmppCall(c, "com.mqtt.gone", "1");
    assert.equal(r.condition, "recipient-unavailable");
    assert.equal(r.uri, "wamp.error.canceled");
    assert.deepEqual(r.args, ["callee disconnected"]);
  });

  test("§8.3.3.4 forbidden: the ACL refuses call, wamp.error.not_authorized", T, async () => {
    const r = await xmppCall(c, "com.secret", "1");
    assert.equal(r.condition, "forbidden");
    assert.equal(r.errorType, "auth");
    assert.equal(r.uri, "wamp.error.not_authorized");
  });

  const malformed: Array<[string, string | undefined, string, Record<string, string>, string]> = [
    ["no procedure attribute", undefined, "1", {}, "wamp.error.invalid_uri"],
    ["a procedure that is not a URI", "com..bad", "1", {}, "wamp.error.invalid_uri"],
    ["text that is not JSON", "com.wamp.add", "{nope", {}, "wamp.error.invalid_argument"],
    [
      "declared JSON that is not",
      "com.wamp.add",
      "[1,",
      { "content-type": "application/json" },
      "wamp.error.invalid_argument",
    ],
    [
      "an [args, kwargs] that is not a pair",
      "com.wamp.add",
      "[1,2]",
      { "content-type": WAMP_ARGS },
      "wamp.error.invalid_argument",
    ],
    ["text that is not Base64", "com.mqtt.echo", "**", { encoding: "base64" }, "wamp.error.invalid_argument"],
    ["an unknown encoding", "com.mqtt.echo", "x", { encoding: "hex" }, "wamp.error.invalid_argument"],
  ];
  for (const [name, procedure, body, attrs, uri] of malformed) {
    test(`§8.3.3.1 bad-request: ${name} (${uri})`, T, async () => {
      const r = await xmppCall(c, procedure, body, attrs);
      assert.equal(r.condition, "bad-request");
      assert.equal(r.errorType, "modify");
      assert.equal(r.uri, uri);
      assert.equal(typeof r.args?.[0], "string", "a reason for people");
    });
  }

  test(
    "§8.3.3.18 resource-constraint: past rpc.maxPendingCalls, switchboard.error.too_many_calls",
    T,
    async () => {
      const dealer = b.handle.router.dealer;
      const max = dealer.maxPendingCalls;
      dealer.maxPendingCalls = 1;
      try {
        const first = xmppCall(c, "com.wamp.slow", "1");
        const r = await xmppCall(c, "com.wamp.add", '{"args": [1, 2]}');
        assert.equal(r.condition, "resource-constraint");
        assert.equal(r.uri, "switchboard.error.too_many_calls");
        assert.equal((await first).uri, "wamp.error.timeout");
      } finally {
        dealer.maxPendingCalls = max;
      }
    },
  );

  test("a call to the user's own bare JID is not a call: service-unavailable", T, async () => {
    const r = await xmppCall(c, "com.wamp.add", "[1,2]", {}, { to: "rpc-caller@localhost" });
    assert.equal(r.condition, "service-unavailable");
    assert.equal(r.uri, undefined);
  });

  test("a caller that leaves with a call pending abandons it; the late answer is dropped", T, async () => {
    // No timeout for this call (rpc.timeoutMs is read per call), so only the caller leaving ends it.
    const dealer = b.handle.router.dealer;
    dealer.defaultTimeoutMs = 0;
    try {
      const leaver = await connectClient(b, { username: "leaver", resource: "x" });
      const id = "held";
      const call = xml("call", { xmlns: RPC_NS, procedure: "com.wamp.hold" });
      await leaver.xmpp.send(xml("iq", { type: "set", id, to: "localhost" }, call));
      await until(() => holds === 1, "the callee invoked");
      const callee = dealer.match("com.wamp.hold")!.callees[0]!;
      // (the timed-out com.wamp.slow invocation is there too: its callee never answers)
      const pending = [...callee.rpc!.invocations.values()].filter((p) => p.procedure === "com.wamp.hold");
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.timer, undefined, "no timeout");
      assert.equal(pending[0]!.state, "pending");
      await leaver.stop();
      await until(() => pending[0]!.state === "abandoned", "the call abandoned");
      assert.equal(pending[0]!.caller.rpc?.calls.size, 0, "nothing left pending for the caller");
      release!();
      await until(() => !callee.rpc!.invocations.has(pending[0]!.id), "the late answer consumed");
      assert.equal(
        leaver.received.some((s) => s.attrs.id === id),
        false,
      );
    } finally {
      dealer.defaultTimeoutMs = 800;
    }
  });
});
