/**
 * Session lifecycle and authentication (WAMP §7, §13): HELLO/WELCOME with the router's roles,
 * realms (configured, auto-created), anonymous per realm, ticket and WAMP-CRA with salted secrets
 * through the core Auth, and the one ACL deciding publish/subscribe/call/register for the authid.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import autobahn from "autobahn";
import { Acl } from "../../../src/core/auth/acl.js";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { hashPassword } from "../../../src/core/auth/users-file.js";
import { parseWampCraFile, wampCraLine } from "../../../src/core/auth/wampcra-file.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { joinAutobahn, RawWamp, VARIANTS } from "../../helpers/wamp.js";

const V = VARIANTS[0]!;

// biome-ignore lint/suspicious/noExplicitAny: WAMP dicts as clients see them
type WampDict = Record<string, any>;

async function authBroker(
  acl?: string,
  configure?: Parameters<typeof startTestBroker>[0],
): Promise<TestBroker> {
  const auth = new FileAuth({
    users: new Map([["alice", await hashPassword("alice-ticket")]]),
    challengeSecrets: parseWampCraFile(`${wampCraLine("bob", "service", "bob-secret")}\n`),
    acl: acl === undefined ? undefined : Acl.parse(acl),
    allowAnonymous: true,
  });
  return startTestBroker({ auth, ...configure });
}

test("WELCOME: a random session id, the realm, authid/authrole/authmethod and the router's roles with their features", async () => {
  const b = await startTestBroker();
  const c = await RawWamp.ws(b);
  try {
    const [, id, details] = (await c.hello("realm1", { authid: "me" })) as [number, number, WampDict];
    assert.ok(Number.isInteger(id) && id >= 1 && id <= 2 ** 53);
    assert.equal(details.realm, "realm1");
    assert.equal(details.authid, "me");
    assert.equal(details.authrole, "anonymous");
    assert.equal(details.authmethod, "anonymous");
    assert.equal(details.roles.broker.features.pattern_based_subscription, true);
    assert.equal(details.roles.broker.features.event_history, false, "no history configured: not announced");
    assert.equal(details.roles.dealer.features.call_canceling, true);
    assert.equal(details.roles.dealer.features.progressive_call_results, true);
    assert.equal(details.roles.dealer.features.shared_registration, true);
    // GOODBYE: the router answers and the session ends; a new HELLO on the same transport works.
    c.send([6, {}, "wamp.close.close_realm"]);
    assert.deepEqual(await c.next(), [6, {}, "wamp.close.goodbye_and_out"]);
    const again = await c.hello();
    assert.notEqual(again[1], id);
  } finally {
    c.close();
    await b.close();
  }
});

test("realms: an unknown realm is refused with ABORT wamp.error.no_such_realm unless auto-creation is on", async () => {
  const b = await startTestBroker();
  const c = await RawWamp.ws(b);
  c.send([1, "nowhere", { roles: { caller: {} } }]);
  const abort = await c.next();
  assert.equal(abort[0], 3);
  assert.equal(abort[2], "wamp.error.no_such_realm");
  await c.closedPromise;
  await b.close();

  const auto = await startTestBroker({ config: (cfg) => (cfg.wamp.autoCreateRealms = true) });
  const d = await RawWamp.raw(auto);
  const w = await d.hello("made.on.demand");
  assert.equal((w[2] as { realm: string }).realm, "made.on.demand");
  d.close();
  await auto.close();
});

test("anonymous is configurable per realm: refused where it is not allowed", async () => {
  const b = await startTestBroker({
    config: (cfg) => {
      cfg.wamp.realms = ["open", "closed"];
      cfg.wamp.anonymousRealms = ["open"];
    },
  });
  try {
    const ok = await joinAutobahn(b, V, { realm: "open" });
    await ok.close();
    await assert.rejects(joinAutobahn(b, V, { realm: "closed" }), (e: { details: { reason: string } }) => {
      assert.equal(e.details.reason, "wamp.error.no_auth_method");
      return true;
    });
  } finally {
    await b.close();
  }
});

test("ticket authentication through the core Auth (users file): right ticket joins as authrole user, wrong one is refused", async () => {
  const b = await authBroker();
  try {
    const onchallenge = (ticket: string) => (_s: unknown, method: string) => {
      assert.equal(method, "ticket");
      return ticket;
    };
    const ok = await joinAutobahn(b, V, {
      authmethods: ["ticket"],
      authid: "alice",
      onchallenge: onchallenge("alice-ticket"),
    });
    assert.equal(ok.session.id > 0, true);
    const me = await ok.session.call("wamp.session.get", [ok.session.id]);
    assert.deepEqual([me.authid, me.authrole, me.authmethod], ["alice", "user", "ticket"]);
    await ok.close();
    await assert.rejects(
      joinAutobahn(b, V, { authmethods: ["ticket"], authid: "alice", onchallenge: onchallenge("wrong") }),
      (e: { details: { reason: string } }) => e.details.reason === "wamp.error.authentication_failed",
    );
  } finally {
    await b.close();
  }
});

test("WAMP-CRA with salted secrets: the client derives the key from salt/iterations/keylen and signs; a wrong secret is refused", async () => {
  const b = await authBroker();
  try {
    const onchallenge = (secret: string) => (_s: unknown, method: string, extra: WampDict) => {
      assert.equal(method, "wampcra");
      assert.ok(
        extra.salt && extra.iterations && extra.keylen,
        "salted: salt, iterations and keylen are sent",
      );
      const key = autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen);
      return autobahn.auth_cra.sign(key, extra.challenge);
    };
    for (const v of [VARIANTS[0]!, VARIANTS[4]!]) {
      const ok = await joinAutobahn(b, v, {
        authmethods: ["wampcra"],
        authid: "bob",
        onchallenge: onchallenge("bob-secret"),
      });
      const me = await ok.session.call("wamp.session.get", [ok.session.id]);
      assert.deepEqual([me.authid, me.authrole, me.authmethod], ["bob", "service", "wampcra"]);
      await ok.close();
    }
    await assert.rejects(
      joinAutobahn(b, V, { authmethods: ["wampcra"], authid: "bob", onchallenge: onchallenge("not-it") }),
      (e: { details: { reason: string } }) => e.details.reason === "wamp.error.authentication_failed",
    );
    await assert.rejects(
      joinAutobahn(b, V, { authmethods: ["wampcra"], authid: "nobody", onchallenge: onchallenge("x") }),
      (e: { details: { reason: string } }) => e.details.reason === "wamp.error.authentication_failed",
    );
  } finally {
    await b.close();
  }
});

test("the one ACL decides publish, subscribe, call and register by authid; refusals are wamp.error.not_authorized", async () => {
  const acl = [
    "allow user bob register com.svc.#",
    // Topics are the core's (MQTT form): WAMP topic com.feed.a is com/feed/a.
    "allow user bob subscribe com/feed/#",
    "allow anonymous * call com.svc.#",
    "allow anonymous * publish com/feed/#",
    "deny any * all #",
  ].join("\n");
  const b = await authBroker(acl);
  try {
    const signer = (_s: unknown, _m: string, extra: WampDict) =>
      autobahn.auth_cra.sign(
        autobahn.auth_cra.derive_key("bob-secret", extra.salt, extra.iterations, extra.keylen),
        extra.challenge,
      );
    const bob = await joinAutobahn(b, V, { authmethods: ["wampcra"], authid: "bob", onchallenge: signer });
    const anon = await joinAutobahn(b, V);
    const denied = (e: { error: string }) => e.error === "wamp.error.not_authorized";
    await bob.session.register("com.svc.add", (a: number[]) => a[0]! + a[1]!);
    await assert.rejects(
      bob.session.register("com.other.add", () => 0),
      denied,
    );
    await assert.rejects(
      anon.session.register("com.svc.mine", () => 0),
      denied,
    );
    assert.equal(await anon.session.call("com.svc.add", [1, 2]), 3);
    await assert.rejects(bob.session.call("com.svc.add", [1, 2]), denied);
    const got: unknown[] = [];
    await bob.session.subscribe("com.feed.a", (args: unknown[]) => got.push(args[0]));
    await assert.rejects(
      anon.session.subscribe("com.feed.a", () => {}),
      denied,
    );
    await anon.session.publish("com.feed.a", ["x"], undefined, { acknowledge: true });
    await assert.rejects(anon.session.publish("com.secret", ["x"], undefined, { acknowledge: true }), denied);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ["x"]);
    await bob.close();
    await anon.close();
  } finally {
    await b.close();
  }
});
