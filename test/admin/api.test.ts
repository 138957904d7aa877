/**
 * The HTTP admin API (docs/admin.md, docs/rpc.md "HTTP") with Node's fetch: POST /api/rpc/<procedure>
 * against a WAMP callee (autobahn) and an MQTT 5 callee (MQTT.js), each error as its HTTP status;
 * GET /api/clients listing MQTT, STOMP and WAMP clients; Basic authentication and the ACL gates.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import autobahn from "autobahn";
import type { MqttClient } from "mqtt";
import { Acl } from "../../src/core/auth/acl.js";
import { FileAuth } from "../../src/core/auth/file-auth.js";
import { hashPassword } from "../../src/core/auth/users-file.js";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs } from "../helpers/stomp-clients.js";
import { type AutobahnClient, joinAutobahn, until, VARIANTS } from "../helpers/wamp.js";
import { mqttCallee } from "../protocols/mqtt/rpc-helpers.js";

const T = { timeout: 30_000 };

async function post(b: TestBroker, procedure: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/rpc/${procedure}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as unknown, headers: res.headers };
}

describe("HTTP RPC through the core Dealer", () => {
  let b: TestBroker;
  let wamp: AutobahnClient;
  let callee: MqttClient;

  before(async () => {
    b = await startTestBroker({
      config: (c) => {
        c.rpc.timeoutMs = 1500;
        c.rpc.maxHttpBody = 1024;
      },
    });
    wamp = await joinAutobahn(b, VARIANTS[0]!);
    await wamp.session.register("com.wamp.add", (args: number[], kwargs?: { scale?: number }) => {
      return (args[0]! + args[1]!) * (kwargs?.scale ?? 1);
    });
    await wamp.session.register("com.wamp.pair", () => new autobahn.Result([1, 2], { k: true }));
    await wamp.session.register("com.wamp.echo", (args: unknown[]) => args[0]);
    await wamp.session.register("com.wamp.fail", () => {
      throw new autobahn.Error("com.example.oops", ["bad"], { code: 7 });
    });
    await wamp.session.register("com.wamp.slow", () => new Promise(() => {}));
    const c = await mqttCallee(b.mqttUrl, "com.mqtt.add", (payload) => {
      const [args] = JSON.parse(payload.toString()) as [number[]];
      return { payload: JSON.stringify(args[0]! + args[1]!), contentType: "application/json" };
    });
    callee = c.client;
  });

  after(async () => {
    await endClient(callee, true);
    await wamp.close();
    await b.close();
  });

  for (const procedure of ["com.wamp.add", "com.mqtt.add"]) {
    test(`POST /api/rpc/${procedure} with {"args": [...]} returns the result as JSON`, T, async () => {
      const r = await post(b, procedure, JSON.stringify({ args: [2, 3] }));
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "application/json");
      assert.equal(r.body, 5);
    });
  }

  test(
    "kwargs; any other JSON value is the one argument; several results come as {args, kwargs}",
    T,
    async () => {
      assert.equal(
        (await post(b, "com.wamp.add", JSON.stringify({ args: [1, 2], kwargs: { scale: 3 } }))).body,
        9,
      );
      assert.deepEqual((await post(b, "com.wamp.echo", JSON.stringify({ a: [1, "x"] }))).body, {
        a: [1, "x"],
      });
      assert.deepEqual((await post(b, "com.wamp.echo", "[7, 8]")).body, [7, 8]);
      assert.deepEqual((await post(b, "com.wamp.pair")).body, { args: [1, 2], kwargs: { k: true } });
    },
  );

  test(
    "errors: 404 no such procedure, 504 timeout, 500 application error, 400 bad body or name, 413",
    T,
    async () => {
      const none = await post(b, "com.nobody", "1");
      assert.deepEqual([none.status, none.body], [404, { error: "wamp.error.no_such_procedure" }]);
      const slow = await post(b, "com.wamp.slow", "1");
      assert.deepEqual([slow.status, slow.body], [504, { error: "wamp.error.timeout" }]);
      const fail = await post(b, "com.wamp.fail", "1");
      assert.deepEqual(
        [fail.status, fail.body],
        [500, { error: "com.example.oops", args: ["bad"], kwargs: { code: 7 } }],
      );
      assert.equal((await post(b, "com.wamp.add", "{not json")).status, 400);
      assert.equal((await post(b, "bad%20name", "1")).status, 400);
      assert.equal((await post(b, "bad%zzname", "1")).status, 400);
      assert.equal((await post(b, "com.wamp.echo", JSON.stringify("x".repeat(2000)))).status, 413);
      const get = await fetch(`http://127.0.0.1:${b.httpPort}/api/rpc/com.wamp.add`);
      assert.equal(get.status, 405);
      await get.arrayBuffer();
    },
  );

  test("502 when the callee disconnects with the call pending", T, async () => {
    const gone = await mqttCallee(b.mqttUrl, "com.mqtt.gone", () => {
      setImmediate(() => gone.client.end(true));
      return undefined;
    });
    const r = await post(b, "com.mqtt.gone", "1");
    assert.deepEqual(
      [r.status, r.body],
      [502, { error: "wamp.error.canceled", args: ["callee disconnected"] }],
    );
  });

  test(
    "GET /api/clients lists MQTT, STOMP and WAMP clients with subscriptions and registrations",
    T,
    async () => {
      const m = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "dir-mqtt" });
      await m.subscribeAsync("sensors/+/temp", { qos: 1 });
      const s = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dir-stomp" } });
      let stompGot = 0;
      s.subscribe("/topic/sensors.*.temp", () => stompGot++);
      await new Promise((r) => setTimeout(r, 200));
      await m.publishAsync("sensors/a/temp", "21", { qos: 1 });
      await until(() => stompGot === 1, "the STOMP subscriber's message");
      try {
        const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/clients`, {
          signal: AbortSignal.timeout(5000),
        });
        assert.equal(res.status, 200);
        const list = (await res.json()) as Array<Record<string, unknown>>;
        const mq = list.find((e) => e.clientId === "dir-mqtt")!;
        assert.equal(mq.protocol, "mqtt");
        assert.equal(mq.remoteAddress, "127.0.0.1");
        assert.deepEqual(mq.subscriptions, ["sensors/+/temp"]);
        assert.equal(mq.messagesIn, 1);
        assert.equal(mq.messagesOut, 1);
        assert.equal(mq.principal, null);
        assert.ok(Date.parse(mq.connectedSince as string) <= Date.now());
        const st = list.find((e) => e.protocol === "stomp")!;
        assert.ok(st, "the STOMP client is listed");
        assert.equal(st.messagesOut, 1, "the STOMP subscriber got the MQTT message");
        const wa = list.filter((e) => e.protocol === "wamp");
        const withRegs = wa.find((e) => (e.registrations as string[]).includes("com.wamp.add"));
        assert.ok(withRegs, "the WAMP callee's registrations are listed");
        const mc = list.find((e) => (e.registrations as string[]).includes("com.mqtt.add"));
        assert.equal(mc?.protocol, "mqtt", "an MQTT callee's registrations are listed");
      } finally {
        await endClient(m, true);
        await s.deactivate();
      }
    },
  );
});

describe("admin API security: Basic authentication through the users file, ACL gates", () => {
  let b: TestBroker;
  before(async () => {
    const users = new Map([
      ["alice", await hashPassword("alice-pw")],
      ["bob", await hashPassword("bob-pw")],
    ]);
    const acl = Acl.parse("allow user alice call com.example.#\nallow user alice subscribe $SYS/#\n");
    b = await startTestBroker({ auth: new FileAuth({ users, acl, allowAnonymous: false }) });
  });
  after(async () => {
    await b.close();
  });

  const basic = (u: string, p: string) => ({
    authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`,
  });
  const clients = (headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${b.httpPort}/api/clients`, { headers, signal: AbortSignal.timeout(5000) });

  test("no or wrong credentials: 401 with WWW-Authenticate Basic", T, async () => {
    const r = await clients();
    assert.equal(r.status, 401);
    assert.match(r.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    await r.arrayBuffer();
    const w = await clients(basic("alice", "wrong"));
    assert.equal(w.status, 401);
    await w.arrayBuffer();
    assert.equal((await post(b, "com.example.x", "1")).status, 401);
  });

  test(
    "the ACL decides: call on the procedure for /api/rpc, subscribe on $SYS/clients/# for /api/clients",
    T,
    async () => {
      const ok = await clients(basic("alice", "alice-pw"));
      assert.equal(ok.status, 200);
      assert.ok(Array.isArray(await ok.json()));
      const no = await clients(basic("bob", "bob-pw"));
      assert.equal(no.status, 403);
      await no.arrayBuffer();
      // Authorized, nobody registered: 404; refused by the ACL: 403.
      assert.equal((await post(b, "com.example.x", "1", basic("alice", "alice-pw"))).status, 404);
      assert.equal((await post(b, "com.other.x", "1", basic("alice", "alice-pw"))).status, 403);
      assert.equal((await post(b, "com.example.x", "1", basic("bob", "bob-pw"))).status, 403);
    },
  );
});
