/**
 * The core Dealer with in-memory endpoints: match and invocation policies, results, errors,
 * progressive results, timeouts, cancel modes, and endpoints leaving. No wire format involved.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Callee,
  type Caller,
  type CancelMode,
  Dealer,
  type EndpointState,
  type PendingCall,
  RpcError,
  type RpcPayload,
} from "../../../src/core/dealer/index.js";
import { PatternRegistry } from "../../../src/core/dealer/registry.js";
import { Session } from "../../../src/core/session.js";

class Endpoint implements Caller, Callee {
  rpc?: EndpointState;
  readonly session: Session;
  readonly log: string[] = [];
  readonly invocations: PendingCall[] = [];
  constructor(
    name: string,
    readonly canCancel = true,
  ) {
    this.session = new Session(name, "test");
  }
  invoke(call: PendingCall): void {
    this.invocations.push(call);
    this.log.push(`invoke ${call.procedure}`);
  }
  interrupt(call: PendingCall, mode: CancelMode, reason: string): void {
    this.log.push(`interrupt ${call.id} ${mode} ${reason}`);
  }
  result(_call: PendingCall, payload: RpcPayload, progress: boolean): void {
    this.log.push(`${progress ? "progress" : "result"} ${JSON.stringify(payload.args)}`);
  }
  error(_call: PendingCall, uri: string, payload: RpcPayload): void {
    this.log.push(`error ${uri} ${JSON.stringify(payload.args ?? [])}`);
  }
}

const OPTS = { timeoutMs: 0, receiveProgress: false, discloseCaller: false };

test("PatternRegistry.best: exact > prefix (longest first) > wildcard (most specific, then oldest)", () => {
  const r = new PatternRegistry<{ procedure: string; match: "exact" | "prefix" | "wildcard" }>();
  const add = (procedure: string, match: "exact" | "prefix" | "wildcard") => {
    const v = { procedure, match };
    r.add(v);
    return v;
  };
  const exact = add("a.b.c", "exact");
  const p1 = add("a", "prefix");
  const p2 = add("a.b", "prefix");
  const w1 = add("x..c", "wildcard");
  const w2 = add("x.b.", "wildcard");
  const w3 = add("..c", "wildcard");
  assert.equal(r.best("a.b.c"), exact);
  assert.equal(r.best("a.b.d"), p2);
  assert.equal(r.best("a.bz"), p2, "prefixes are string prefixes");
  assert.equal(r.best("a.c"), p1);
  assert.equal(r.best("x.b.c"), w1, "equally specific: the older one");
  assert.equal(r.best("x.b.d"), w2);
  assert.equal(r.best("y.z.c"), w3);
  assert.equal(r.best("y.z"), undefined);
  r.delete(p2);
  assert.equal(r.best("a.b.d"), p1);
  r.delete(w1);
  assert.equal(r.best("x.b.c"), w2);
});

test("call, result and callee error flow through the Dealer; no_such_procedure when nothing matches", () => {
  const d = new Dealer();
  const callee = new Endpoint("callee");
  const caller = new Endpoint("caller");
  assert.ok(!(d.register(callee, "p", "exact", "single") instanceof RpcError));
  assert.equal((d.call(caller, 1, "q", {}, OPTS) as RpcError).uri, "wamp.error.no_such_procedure");
  assert.equal(d.call(caller, 1, "p", { args: [1] }, OPTS), undefined);
  d.yield(callee, callee.invocations[0]!.id, { args: [2] }, false);
  d.call(caller, 2, "p", {}, OPTS);
  d.calleeError(callee, callee.invocations[1]!.id, "app.err", { args: ["x"] });
  assert.deepEqual(caller.log, ["result [2]", 'error app.err ["x"]']);
  assert.equal(caller.rpc!.calls.size, 0);
  assert.equal(callee.rpc!.invocations.size, 0);
});

test("shared registrations: policies must agree; single is exclusive; a callee registers once", () => {
  const d = new Dealer();
  const [a, b, c] = [new Endpoint("a"), new Endpoint("b"), new Endpoint("c")];
  d.register(a, "rr", "exact", "roundrobin");
  d.register(b, "rr", "exact", "roundrobin");
  assert.equal(
    (d.register(c, "rr", "exact", "first") as RpcError).uri,
    "wamp.error.procedure_exists_with_different_invocation_policy",
  );
  assert.equal(
    (d.register(a, "rr", "exact", "roundrobin") as RpcError).uri,
    "wamp.error.procedure_already_exists",
  );
  d.register(a, "one", "exact", "single");
  assert.equal(
    (d.register(b, "one", "exact", "single") as RpcError).uri,
    "wamp.error.procedure_already_exists",
  );
  const caller = new Endpoint("caller");
  for (let i = 0; i < 4; i++) d.call(caller, i + 1, "rr", {}, OPTS);
  assert.deepEqual([a.invocations.length, b.invocations.length], [2, 2]);
});

test("progressive results reach only callers that asked for them", () => {
  const d = new Dealer();
  const callee = new Endpoint("callee");
  const caller = new Endpoint("caller");
  d.register(callee, "p", "exact", "single");
  d.call(caller, 1, "p", {}, { ...OPTS, receiveProgress: true });
  d.call(caller, 2, "p", {}, OPTS);
  const [i1, i2] = callee.invocations;
  d.yield(callee, i1!.id, { args: [1] }, true);
  d.yield(callee, i2!.id, { args: [1] }, true);
  d.yield(callee, i1!.id, { args: ["end"] }, false);
  d.yield(callee, i2!.id, { args: ["end"] }, false);
  assert.deepEqual(caller.log, ["progress [1]", 'result ["end"]', 'result ["end"]']);
});

test("cancel modes: skip answers at once without INTERRUPT; killnowait interrupts and answers; kill waits for the callee", () => {
  const d = new Dealer();
  const callee = new Endpoint("callee");
  const caller = new Endpoint("caller");
  d.register(callee, "p", "exact", "single");
  for (const [req, mode] of [
    [1, "skip"],
    [2, "killnowait"],
    [3, "kill"],
  ] as const) {
    d.call(caller, req, "p", {}, OPTS);
    d.cancel(caller, req, mode);
  }
  const [i1, i2, i3] = callee.invocations;
  assert.deepEqual(caller.log, ["error wamp.error.canceled []", "error wamp.error.canceled []"]);
  assert.deepEqual(
    callee.log.filter((l) => l.startsWith("interrupt")),
    [`interrupt ${i2!.id} killnowait wamp.error.canceled`, `interrupt ${i3!.id} kill wamp.error.canceled`],
  );
  d.yield(callee, i1!.id, { args: ["late"] }, false);
  d.yield(callee, i2!.id, { args: ["late"] }, false);
  d.calleeError(callee, i3!.id, "wamp.error.canceled", { args: ["stopped"] });
  assert.deepEqual(caller.log.slice(2), ['error wamp.error.canceled ["stopped"]']);
  assert.equal(callee.rpc!.invocations.size, 0);
});

test("a callee without call canceling is never interrupted: kill modes degrade to skip", () => {
  const d = new Dealer();
  const callee = new Endpoint("callee", false);
  const caller = new Endpoint("caller");
  d.register(callee, "p", "exact", "single");
  d.call(caller, 1, "p", {}, OPTS);
  d.cancel(caller, 1, "kill");
  assert.deepEqual(caller.log, ["error wamp.error.canceled []"]);
  assert.ok(!callee.log.some((l) => l.startsWith("interrupt")));
});

test("timeout ends the call with wamp.error.timeout and interrupts the callee", async () => {
  const d = new Dealer();
  const callee = new Endpoint("callee");
  const caller = new Endpoint("caller");
  d.register(callee, "p", "exact", "single");
  d.call(caller, 1, "p", {}, { ...OPTS, timeoutMs: 20 });
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(caller.log, ["error wamp.error.timeout []"]);
  assert.match(callee.log[1]!, /interrupt \d+ killnowait wamp.error.timeout/);
});

test("leave: the callee's registrations go and its callers get canceled; the caller's calls are interrupted", () => {
  const d = new Dealer();
  const events: string[] = [];
  d.listen({
    onCreate: (r) => events.push(`create ${r.procedure}`),
    onDelete: (r) => events.push(`delete ${r.procedure}`),
  });
  const callee = new Endpoint("callee");
  const caller = new Endpoint("caller");
  const other = new Endpoint("other");
  d.register(callee, "p", "exact", "single");
  d.register(other, "q", "exact", "single");
  d.call(caller, 1, "p", {}, OPTS);
  d.call(caller, 2, "q", {}, OPTS);
  d.leave(callee);
  assert.deepEqual(caller.log, ['error wamp.error.canceled ["callee disconnected"]']);
  assert.equal((d.call(caller, 3, "p", {}, OPTS) as RpcError).uri, "wamp.error.no_such_procedure");
  d.leave(caller);
  assert.match(other.log[1]!, /interrupt \d+ killnowait wamp.error.canceled/);
  d.yield(other, other.invocations[0]!.id, { args: [1] }, false);
  assert.equal(caller.log.length, 1, "an abandoned call's answer is dropped");
  assert.deepEqual(events, ["create p", "create q", "delete p"]);
});

test("internal procedures answer synchronously and win over registrations", () => {
  const d = new Dealer();
  d.addInternal("sys.echo", (p) => p);
  d.addInternal("sys.fail", () => {
    throw new RpcError("sys.error", { args: [1] });
  });
  const caller = new Endpoint("caller");
  assert.deepEqual(d.call(caller, 1, "sys.echo", { args: [5] }, OPTS), { args: [5] });
  assert.equal((d.call(caller, 2, "sys.fail", {}, OPTS) as RpcError).uri, "sys.error");
  assert.equal(
    (d.register(new Endpoint("x"), "sys.echo", "exact", "single") as RpcError).uri,
    "wamp.error.procedure_already_exists",
  );
});
