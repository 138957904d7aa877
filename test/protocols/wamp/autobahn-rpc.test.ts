/**
 * Routed RPC with autobahn, over WebSocket and RawSocket with JSON, MessagePack and CBOR: every
 * Dealer feature of the basic and advanced profile (WAMP §12, "Pattern-based Registrations",
 * "Shared Registrations", "Call Timeouts", "Call Canceling", "Progressive Call Results",
 * "Caller Identification").
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import autobahn from "autobahn";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type AutobahnClient, delay, joinAutobahn, RawWamp, VARIANTS } from "../../helpers/wamp.js";

for (const v of VARIANTS) {
  describe(`RPC with autobahn over ${v.name}`, () => {
    let b: TestBroker;
    let callee: AutobahnClient;
    let caller: AutobahnClient;
    before(async () => {
      b = await startTestBroker();
      callee = await joinAutobahn(b, v);
      caller = await joinAutobahn(b, v);
    });
    after(async () => {
      await callee.close();
      await caller.close();
      await b.close();
    });

    test("WAMP §12: CALL reaches the callee's INVOCATION; its YIELD comes back as RESULT with args and kwargs", async () => {
      await callee.session.register("com.rpc.add", (args: number[], kwargs: { scale: number }) => {
        return new autobahn.Result([(args[0]! + args[1]!) * kwargs.scale], { note: "ok" });
      });
      const r = await caller.session.call("com.rpc.add", [2, 3], { scale: 10 });
      assert.deepEqual(r.args, [50]);
      assert.deepEqual(r.kwargs, { note: "ok" });
      const single = await caller.session.call("com.rpc.add", [1, 1], { scale: 1 });
      assert.equal(single.args[0], 2);
    });

    if (v.serializer !== "json") {
      test("binary arguments cross as binary (MessagePack bin / CBOR byte string)", async () => {
        await callee.session.register("com.rpc.echo", (args: unknown[]) => args[0]);
        const bytes = Buffer.from([0, 1, 2, 255, 254]);
        const r = await caller.session.call("com.rpc.echo", [bytes]);
        assert.deepEqual(Buffer.from(r), bytes);
      });
    }

    test("WAMP §12.3.3: an application error passes through with its URI, args and kwargs", async () => {
      await callee.session.register("com.rpc.fail", () => {
        throw new autobahn.Error("com.app.invalid_input", ["bad", 7], { field: "x" });
      });
      await assert.rejects(
        caller.session.call("com.rpc.fail"),
        (e: { error: string; args: unknown[]; kwargs: unknown }) => {
          assert.equal(e.error, "com.app.invalid_input");
          assert.deepEqual(e.args, ["bad", 7]);
          assert.deepEqual(e.kwargs, { field: "x" });
          return true;
        },
      );
    });

    test("wamp.error.no_such_procedure and wamp.error.procedure_already_exists", async () => {
      await assert.rejects(
        caller.session.call("com.rpc.nobody"),
        (e: { error: string }) => e.error === "wamp.error.no_such_procedure",
      );
      await callee.session.register("com.rpc.once", () => 1);
      await assert.rejects(
        caller.session.register("com.rpc.once", () => 2),
        (e: { error: string }) => e.error === "wamp.error.procedure_already_exists",
      );
    });

    test("UNREGISTER removes the registration: later calls find no procedure", async () => {
      const reg = await callee.session.register("com.rpc.gone", () => 1);
      assert.equal((await caller.session.call("com.rpc.gone")).valueOf(), 1);
      await callee.session.unregister(reg);
      await assert.rejects(
        caller.session.call("com.rpc.gone"),
        (e: { error: string }) => e.error === "wamp.error.no_such_procedure",
      );
    });

    test("pattern-based registrations: exact before prefix before wildcard, the longest prefix first", async () => {
      // autobahn fills details.procedure with the registered URI when the INVOCATION has none.
      const seen = (tag: string) => (_a: unknown, _k: unknown, d: { procedure?: string }) => [
        tag,
        d.procedure,
      ];
      await callee.session.register("com.pat.a.x", seen("exact"));
      await callee.session.register("com.pat", seen("prefix-short"), { match: "prefix" });
      await callee.session.register("com.pat.a", seen("prefix-long"), { match: "prefix" });
      await callee.session.register("org..x", seen("wildcard"), { match: "wildcard" });
      const call = (p: string) => caller.session.call(p);
      assert.deepEqual(await call("com.pat.a.x"), ["exact", "com.pat.a.x"]);
      assert.deepEqual(await call("com.pat.a.y"), ["prefix-long", "com.pat.a.y"]);
      assert.deepEqual(await call("com.pat.b"), ["prefix-short", "com.pat.b"]);
      assert.deepEqual(await call("org.any.x"), ["wildcard", "org.any.x"]);
      await assert.rejects(
        caller.session.call("org.any.y"),
        (e: { error: string }) => e.error === "wamp.error.no_such_procedure",
      );
    });

    test("shared registrations: roundrobin alternates, first/last pick by registration order", async () => {
      const other = await joinAutobahn(b, v);
      try {
        await callee.session.register("com.shared.rr", () => "A", { invoke: "roundrobin" });
        await other.session.register("com.shared.rr", () => "B", { invoke: "roundrobin" });
        const rr = [];
        for (let i = 0; i < 4; i++) rr.push(await caller.session.call("com.shared.rr"));
        assert.deepEqual(rr, ["A", "B", "A", "B"]);

        await callee.session.register("com.shared.first", () => "A", { invoke: "first" });
        await other.session.register("com.shared.first", () => "B", { invoke: "first" });
        assert.equal(await caller.session.call("com.shared.first"), "A");
        await callee.session.register("com.shared.last", () => "A", { invoke: "last" });
        await other.session.register("com.shared.last", () => "B", { invoke: "last" });
        assert.equal(await caller.session.call("com.shared.last"), "B");

        await callee.session.register("com.shared.random", () => "A", { invoke: "random" });
        await other.session.register("com.shared.random", () => "B", { invoke: "random" });
        const got = new Set();
        for (let i = 0; i < 40 && got.size < 2; i++) got.add(await caller.session.call("com.shared.random"));
        assert.deepEqual([...got].sort(), ["A", "B"]);

        await callee.session.register("com.shared.single", () => "A");
        await assert.rejects(
          other.session.register("com.shared.single", () => "B", { invoke: "roundrobin" }),
          (e: { error: string }) => e.error === "wamp.error.procedure_already_exists",
        );
        const third = await joinAutobahn(b, v);
        await assert.rejects(
          third.session.register("com.shared.rr", () => "C", { invoke: "random" }),
          (e: { error: string }) =>
            e.error === "wamp.error.procedure_exists_with_different_invocation_policy",
        );
        await third.close();
      } finally {
        await other.close();
      }
    });

    test("call timeout: a callee that does not answer in time ends the call with wamp.error.timeout", async () => {
      await callee.session.register("com.rpc.slow", () => new Promise(() => {}));
      const t0 = Date.now();
      await assert.rejects(
        caller.session.call("com.rpc.slow", [], {}, { timeout: 150 }),
        (e: { error: string }) => e.error === "wamp.error.timeout",
      );
      assert.ok(Date.now() - t0 >= 140);
    });

    test("progressive call results: progress reaches the caller before the final result", async () => {
      await callee.session.register(
        "com.rpc.progress",
        async (_a: unknown, _k: unknown, d: { progress?: (a: unknown[]) => void }) => {
          assert.ok(d.progress, "receive_progress reaches the callee");
          d.progress!([1]);
          d.progress!([2]);
          return "done";
        },
      );
      const progress: unknown[] = [];
      const r = await caller.session.call("com.rpc.progress", [], {}, { receive_progress: true }).then(
        (x: unknown) => x,
        undefined,
        (p: unknown) => progress.push(p),
      );
      assert.equal(r, "done");
      assert.deepEqual(progress, [1, 2]);
    });

    test("caller identification: disclose_me gives the callee the caller's session, authid and authrole", async () => {
      await callee.session.register(
        "com.rpc.who",
        (_a: unknown, _k: unknown, d: { caller?: number; caller_authrole?: string }) => [
          d.caller ?? null,
          d.caller_authrole ?? null,
        ],
      );
      // A plain return value is one positional result: autobahn resolves with the value itself.
      const r = await caller.session.call("com.rpc.who", [], {}, { disclose_me: true });
      assert.deepEqual(r, [caller.session.id, "anonymous"]);
      const hidden = await caller.session.call("com.rpc.who");
      assert.deepEqual(hidden, [null, null]);
    });

    test("call canceling (skip): the caller gets wamp.error.canceled; the late result is dropped", async () => {
      let answer: ((v: string) => void) | undefined;
      await callee.session.register("com.rpc.cancel-skip", () => new Promise<string>((r) => (answer = r)));
      const raw = await RawWamp.ws(b);
      await raw.hello();
      raw.send([48, 1, {}, "com.rpc.cancel-skip"]);
      await delay(50);
      raw.send([49, 1, { mode: "skip" }]);
      const err = await raw.next();
      assert.deepEqual(err.slice(0, 5), [8, 48, 1, {}, "wamp.error.canceled"]);
      answer?.("late");
      await assert.rejects(raw.next(200), /no WAMP message/);
      raw.close();
    });

    test("the callee leaves: its pending calls end with wamp.error.canceled for their callers", async () => {
      const leaving = await joinAutobahn(b, v);
      await leaving.session.register("com.rpc.leaving", () => new Promise(() => {}));
      // Caught at once: the rejection comes while the callee is still closing.
      const outcome = caller.session.call("com.rpc.leaving").then(
        () => "resolved",
        (e: { error: string }) => e.error,
      );
      await delay(50);
      await leaving.close();
      assert.equal(await outcome, "wamp.error.canceled");
    });
  });
}

describe("call canceling with a callee that supports INTERRUPT", () => {
  test("kill: INTERRUPT reaches the callee, whose ERROR reaches the caller; killnowait: the caller is answered at once", async () => {
    const b = await startTestBroker();
    const callee = await RawWamp.raw(b, "msgpack");
    const caller = await joinAutobahn(b, VARIANTS[0]!);
    try {
      await callee.hello();
      callee.send([64, 1, {}, "com.kill.me"]);
      const [, , regId] = await callee.next();
      const killed = caller.session.call("com.kill.me");
      const inv = await callee.next();
      assert.equal(inv[0], 68);
      assert.equal(inv[2], regId);
      killed.cancel({ mode: "kill" });
      const interrupt = await callee.next();
      assert.deepEqual(interrupt, [69, inv[1], { mode: "kill", reason: "wamp.error.canceled" }]);
      callee.send([8, 68, inv[1], {}, "wamp.error.canceled", ["by callee"]]);
      await assert.rejects(
        killed,
        (e: { error: string; args: unknown[] }) =>
          e.error === "wamp.error.canceled" && e.args[0] === "by callee",
      );

      const raw = await RawWamp.ws(b);
      await raw.hello();
      raw.send([48, 5, {}, "com.kill.me"]);
      const inv2 = await callee.next();
      raw.send([49, 5, { mode: "killnowait" }]);
      assert.deepEqual((await raw.next()).slice(0, 5), [8, 48, 5, {}, "wamp.error.canceled"]);
      assert.deepEqual(await callee.next(), [
        69,
        inv2[1],
        { mode: "killnowait", reason: "wamp.error.canceled" },
      ]);
      raw.close();
    } finally {
      callee.close();
      await caller.close();
      await b.close();
    }
  });
});
