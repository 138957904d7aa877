/**
 * Routed RPC from STOMP (docs/rpc.md "STOMP") with @stomp/stompjs: SEND to `/rpc/<procedure>` with
 * reply-to and correlation-id, against a WAMP callee (autobahn) and an MQTT 5 callee (MQTT.js);
 * every error in STOMP's form (a MESSAGE with the header `error`).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client, IMessage } from "@stomp/stompjs";
import autobahn from "autobahn";
import type { MqttClient } from "mqtt";
import { type Action, AllowAllAuth, type Principal } from "../../../src/core/auth.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { stompjs, withTimeout } from "../../helpers/stomp-clients.js";
import { type AutobahnClient, joinAutobahn, VARIANTS } from "../../helpers/wamp.js";
import { mqttCallee } from "../mqtt/rpc-helpers.js";

class RpcAcl extends AllowAllAuth {
  override authorize(_p?: Principal, action?: Action, topic?: string): boolean {
    return !(action === "call" && topic === "com.secret");
  }
}

const T = { timeout: 30_000 };

describe("STOMP callers through the core Dealer", () => {
  let b: TestBroker;
  let wamp: AutobahnClient;
  let callee: MqttClient;
  let stomp: Client;
  const answers = new Map<string, (m: IMessage) => void>();
  let seq = 0;

  /** SEND to /rpc/<procedure>; resolves with the MESSAGE on the /temp-queue/ carrying our correlation-id. */
  function call(procedure: string, body: string, headers: Record<string, string> = {}): Promise<IMessage> {
    const id = `s${++seq}`;
    const got = new Promise<IMessage>((resolve) => answers.set(id, resolve));
    stomp.publish({
      destination: `/rpc/${procedure}`,
      body,
      headers: { "reply-to": "/temp-queue/rpc", "correlation-id": id, ...headers },
    });
    return withTimeout(got, 8000, `answer to ${procedure}`);
  }

  before(async () => {
    b = await startTestBroker({
      auth: new RpcAcl(),
      config: (c) => {
        c.rpc.timeoutMs = 1500;
      },
    });
    wamp = await joinAutobahn(b, VARIANTS[0]!);
    await wamp.session.register("com.wamp.add", (args: number[]) => args[0]! + args[1]!);
    await wamp.session.register("com.wamp.fail", () => {
      throw new autobahn.Error("com.example.oops", ["bad"], { code: 7 });
    });
    await wamp.session.register("com.wamp.slow", () => new Promise(() => {}));
    const c = await mqttCallee(b.mqttUrl, "com.mqtt.add", (payload) => {
      const [args] = JSON.parse(payload.toString()) as [number[]];
      return { payload: String(args[0]! + args[1]!) };
    });
    callee = c.client;
    stomp = await stompjs({ tcp: b.stompPort });
    // Temp-queue replies carry `subscription:/temp-queue/rpc`, which stompjs did not subscribe.
    stomp.onUnhandledMessage = (m) => {
      const id = m.headers["correlation-id"];
      if (id !== undefined) answers.get(id)?.(m);
    };
  });

  after(async () => {
    await stomp.deactivate();
    await endClient(callee, true);
    await wamp.close();
    await b.close();
  });

  for (const procedure of ["com.wamp.add", "com.mqtt.add"]) {
    test(`STOMP caller -> ${procedure}: the result on reply-to with the correlation-id`, T, async () => {
      const m = await call(procedure, JSON.stringify({ args: [2, 3] }));
      assert.equal(m.headers.error, undefined);
      assert.equal(m.body, "5");
    });
  }

  test("reply-to a /topic/ destination the caller subscribed", T, async () => {
    const got = new Promise<IMessage>((resolve) => stomp.subscribe("/topic/answers.stomp", resolve));
    await new Promise((r) => setTimeout(r, 100));
    stomp.publish({
      destination: "/rpc/com.wamp.add",
      body: "[[40, 2], {}]",
      headers: {
        "reply-to": "/topic/answers.stomp",
        "correlation-id": "t1",
        "content-type": "application/x-wamp+json",
      },
    });
    const m = await withTimeout(got, 8000, "topic answer");
    assert.equal(m.body, "42");
    assert.equal(m.headers["correlation-id"], "t1");
    assert.equal(m.headers["content-type"], "application/json");
  });

  test("application error: header error = the URI, args/kwargs as the body", T, async () => {
    const m = await call("com.wamp.fail", "");
    assert.equal(m.headers.error, "com.example.oops");
    assert.equal(m.headers["content-type"], "application/x-wamp+json");
    assert.deepEqual(JSON.parse(m.body), [["bad"], { code: 7 }]);
  });

  test("no such procedure, timeout, not authorized: MESSAGEs with the error header", T, async () => {
    assert.equal((await call("com.nobody", "x")).headers.error, "wamp.error.no_such_procedure");
    assert.equal((await call("com.wamp.slow", "x")).headers.error, "wamp.error.timeout");
    assert.equal((await call("com.secret", "x")).headers.error, "wamp.error.not_authorized");
  });

  test("callee gone: wamp.error.canceled", T, async () => {
    const gone = await mqttCallee(b.mqttUrl, "com.mqtt.gone", () => {
      setImmediate(() => gone.client.end(true));
      return undefined;
    });
    const m = await call("com.mqtt.gone", "x");
    assert.equal(m.headers.error, "wamp.error.canceled");
    assert.equal(m.body, "callee disconnected");
  });

  test("an invalid procedure name without reply-to is an ERROR frame", T, async () => {
    const s = await stompjs({ tcp: b.stompPort });
    const err = new Promise<string>((resolve) => {
      s.onStompError = (f) => resolve(f.headers.message ?? "");
    });
    s.publish({ destination: "/rpc/bad name", body: "" });
    assert.equal(await withTimeout(err, 5000, "ERROR"), "bad destination");
    await s.deactivate();
  });
});
