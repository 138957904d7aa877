/**
 * Interop with wampy (the second npm WAMP client) over WebSocket with JSON, MessagePack and CBOR
 * (wampy has no RawSocket transport): RPC with kwargs, errors, pattern and shared registrations,
 * progressive results, timeout and cancel; PubSub with options, patterns and retained events;
 * ticket and WAMP-CRA authentication.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Wampy } from "wampy";
import { CborSerializer } from "wampy/CborSerializer.js";
import { MsgpackSerializer } from "wampy/MsgpackSerializer.js";
import WebSocket from "ws";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { hashPassword } from "../../../src/core/auth/users-file.js";
import { deriveWampCraKey, parseWampCraFile, wampCraLine } from "../../../src/core/auth/wampcra-file.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { delay, RawWamp, until } from "../../helpers/wamp.js";

const SERIALIZERS = [
  { name: "JSON", make: () => undefined },
  { name: "MessagePack", make: () => new MsgpackSerializer() },
  { name: "CBOR", make: () => new CborSerializer() },
];

// biome-ignore lint/suspicious/noExplicitAny: wampy's options and results are loosely typed
type Any = any;

async function join(b: TestBroker, serializer: unknown, opts: Record<string, unknown> = {}): Promise<Wampy> {
  const w = new Wampy(b.wampUrl, {
    ws: WebSocket,
    realm: "realm1",
    autoReconnect: false,
    ...(serializer ? { serializer } : {}),
    ...opts,
  } as Any);
  await w.connect();
  return w;
}

for (const s of SERIALIZERS) {
  describe(`wampy over WebSocket/${s.name}`, () => {
    let b: TestBroker;
    let callee: Wampy;
    let caller: Wampy;
    before(async () => {
      b = await startTestBroker();
      callee = await join(b, s.make());
      caller = await join(b, s.make());
    });
    after(async () => {
      await callee.disconnect();
      await caller.disconnect();
      await b.close();
    });

    test("register and call with positional and keyword arguments", async () => {
      await callee.register("com.wampy.mul", (d: Any) => ({
        argsList: [d.argsList[0] * d.argsDict.by],
        argsDict: { unit: "x" },
      }));
      const r: Any = await caller.call("com.wampy.mul", { argsList: [6], argsDict: { by: 7 } });
      assert.deepEqual(r.argsList, [42]);
      assert.deepEqual(r.argsDict, { unit: "x" });
    });

    test("an application error reaches the caller with its URI and arguments", async () => {
      await callee.register("com.wampy.fail", () => {
        throw Object.assign(new Error("nope"), {
          error: "com.app.nope",
          argsList: [1],
          argsDict: { why: "test" },
        });
      });
      await assert.rejects(caller.call("com.wampy.fail"), (e: Any) => {
        assert.equal(e.errorUri, "com.app.nope");
        assert.deepEqual(e.argsList, [1]);
        assert.deepEqual(e.argsDict, { why: "test" });
        return true;
      });
      await assert.rejects(
        caller.call("com.wampy.none"),
        (e: Any) => e.errorUri === "wamp.error.no_such_procedure",
      );
    });

    test("pattern-based and shared registrations", async () => {
      await callee.register("com.wampy.pre", (d: Any) => ({ argsList: ["prefix", d.details.procedure] }), {
        match: "prefix",
      });
      await callee.register("com.wampy..w", () => ({ argsList: ["wildcard"] }), { match: "wildcard" });
      assert.deepEqual(((await caller.call("com.wampy.pre.x")) as Any).argsList, [
        "prefix",
        "com.wampy.pre.x",
      ]);
      assert.deepEqual(((await caller.call("com.wampy.zz.w")) as Any).argsList, ["wildcard"]);
      await callee.register("com.wampy.rr", () => ({ argsList: ["A"] }), { invoke: "roundrobin" });
      await caller.register("com.wampy.rr", () => ({ argsList: ["B"] }), { invoke: "roundrobin" });
      const got = [];
      for (let i = 0; i < 4; i++) got.push(((await caller.call("com.wampy.rr")) as Any).argsList[0]);
      assert.deepEqual(got, ["A", "B", "A", "B"]);
    });

    test("progressive call results reach progress_callback before the final result", async () => {
      // wampy's callee does not announce progressive_call_results, so the Dealer would not ask it
      // for progress (WAMP: only callees that announce the feature get receive_progress).
      const progressive = await RawWamp.ws(b);
      await progressive.hello();
      progressive.send([64, 1, {}, "com.wampy.progress"]);
      assert.equal((await progressive.next())[0], 65);
      const progress: unknown[] = [];
      const result = caller.call("com.wampy.progress", null, {
        progress_callback: (p: Any) => void progress.push(p.argsList[0]),
      } as Any);
      const inv = await progressive.next();
      assert.equal(inv[0], 68);
      assert.equal((inv[3] as { receive_progress?: boolean }).receive_progress, true);
      progressive.send([70, inv[1], { progress: true }, [1]]);
      progressive.send([70, inv[1], { progress: true }, [2]]);
      progressive.send([70, inv[1], {}, ["done"]]);
      const r: Any = await result;
      assert.deepEqual(r.argsList, ["done"]);
      assert.deepEqual(progress, [1, 2]);
      progressive.close();
    });

    test("call timeout and call canceling", async () => {
      await callee.register("com.wampy.slow", () => new Promise(() => {}));
      await assert.rejects(
        caller.call("com.wampy.slow", null, { timeout: 100 } as Any),
        (e: Any) => e.errorUri === "wamp.error.timeout",
      );
      const pending = caller.call("com.wampy.slow").then(
        () => "resolved",
        (e: Any) => e.errorUri,
      );
      const reqId = caller.getOpStatus().reqId;
      await delay(30);
      caller.cancel(reqId, { mode: "killnowait" } as Any);
      assert.equal(await pending, "wamp.error.canceled");
    });

    test("publish and subscribe: args and kwargs, exclude_me, eligible, prefix and wildcard, retained", async () => {
      const events: Any[] = [];
      await callee.subscribe("com.wampy.t", (e: Any) => void events.push(e));
      await caller.publish("com.wampy.t", { argsList: [1], argsDict: { a: 1 } }, {
        acknowledge: true,
      } as Any);
      await caller.publish("com.wampy.t", { argsList: [2] }, {
        acknowledge: true,
        eligible: [caller.getSessionId()],
      } as Any);
      await until(() => events.length === 1, "one event");
      assert.deepEqual(events[0].argsList, [1]);
      assert.deepEqual(events[0].argsDict, { a: 1 });

      // Publisher exclusion (wampy sends exclude_me only when true; the default excludes anyway).
      const own: Any[] = [];
      const other: Any[] = [];
      await caller.subscribe("com.wampy.own", (e: Any) => void own.push(e));
      await callee.subscribe("com.wampy.own", (e: Any) => void other.push(e));
      await caller.publish("com.wampy.own", { argsList: ["x"] }, {
        acknowledge: true,
        exclude_me: true,
      } as Any);
      await until(() => other.length === 1, "the other subscriber's event");
      await delay(30);
      assert.equal(own.length, 0);

      const pattern: string[] = [];
      await callee.subscribe("com.wampy.p", (e: Any) => void pattern.push(e.details.topic), {
        match: "prefix",
      });
      await callee.subscribe("com.wampy..w", (e: Any) => void pattern.push(e.details.topic), {
        match: "wildcard",
      });
      await caller.publish("com.wampy.p.1", { argsList: [0] }, { acknowledge: true } as Any);
      await caller.publish("com.wampy.x.w", { argsList: [0] }, { acknowledge: true } as Any);
      await until(() => pattern.length === 2, "pattern events");
      assert.deepEqual(pattern, ["com.wampy.p.1", "com.wampy.x.w"]);

      // wampy 8 checks the retain option but does not send it: publish the retained event raw.
      const raw = await RawWamp.ws(b);
      await raw.hello();
      raw.send([16, 1, { acknowledge: true, retain: true }, "com.wampy.ret", ["kept"]]);
      assert.equal((await raw.next())[0], 17);
      raw.close();
      const retained: Any[] = [];
      await callee.subscribe("com.wampy.ret", (e: Any) => void retained.push(e), {
        get_retained: true,
      } as Any);
      await until(() => retained.length === 1, "retained event");
      assert.deepEqual(retained[0].argsList, ["kept"]);
    });
  });
}

test("wampy authenticates with ticket and with WAMP-CRA (salted secret)", async () => {
  const auth = new FileAuth({
    users: new Map([["alice", await hashPassword("t1")]]),
    challengeSecrets: parseWampCraFile(wampCraLine("bob", "user", "s3cret")),
    allowAnonymous: false,
  });
  const b = await startTestBroker({ auth, config: (c) => (c.wamp.anonymousRealms = []) });
  try {
    const t = await join(b, undefined, { authid: "alice", authmethods: ["ticket"], onChallenge: () => "t1" });
    assert.ok(t.getSessionId());
    await t.disconnect();
    const c = await join(b, new MsgpackSerializer(), {
      authid: "bob",
      authmethods: ["wampcra"],
      onChallenge: (_method: string, info: Any) => {
        const key = deriveWampCraKey("s3cret", info.salt, info.iterations, info.keylen);
        return createSignature(key, info.challenge);
      },
    });
    assert.ok(c.getSessionId());
    await c.disconnect();
    await assert.rejects(
      join(b, undefined, { authid: "alice", authmethods: ["ticket"], onChallenge: () => "bad" }),
    );
  } finally {
    await b.close();
  }
});

function createSignature(key: string, challenge: string): string {
  return createHmac("sha256", key).update(challenge).digest("base64");
}
