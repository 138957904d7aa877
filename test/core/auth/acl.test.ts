import assert from "node:assert/strict";
import { test } from "node:test";
import { Acl, evaluateAcl, evaluateSubscribeScope, parseAcl } from "../../../src/core/auth/acl.js";
import type { Principal } from "../../../src/core/auth.js";

const user = (username: string, clientId = `${username}-client`): Principal => ({
  username,
  clientId,
  protocol: "mqtt",
  anonymous: false,
});
const anon = (clientId: string): Principal => ({ clientId, protocol: "mqtt", anonymous: true });

const EXAMPLE = `
# allow|deny  user|client|anonymous|any  <name-pattern>  <actions>  <topic filter>
deny  user   mallory  all               #
allow user   alice    all               sensors/#
allow user   *        all               users/%u/#
allow any    *        subscribe         $SYS/#
allow client dev-*    publish           devices/%c/#
allow client dev-?    subscribe,publish commands/%c
allow anonymous *     subscribe         public/#
deny  any    *        subscribe         sensors/secret/#
allow any    *        subscribe         sensors/#
allow any    *        call              com.example.#
allow user   svc      register          com.example.+
deny  any    *        all               #
`;

test("first match wins; default deny", () => {
  const rules = parseAcl(EXAMPLE);
  const can = (p: Principal, a: Parameters<typeof evaluateAcl>[2], t: string) => evaluateAcl(rules, p, a, t);
  assert.equal(can(user("alice"), "publish", "sensors/kitchen/temp"), true);
  assert.equal(can(user("alice"), "subscribe", "sensors/+/temp"), true);
  assert.equal(can(user("alice"), "subscribe", "sensors/secret/x"), true, "alice's allow comes first");
  assert.equal(can(user("alice"), "publish", "other"), false);
  assert.equal(can(user("mallory"), "publish", "users/mallory/x"), false, "the deny rule comes first");
  assert.equal(can(user("bob"), "publish", "sensors/x"), false);
  assert.equal(can(user("bob"), "subscribe", "sensors/x"), true);
  assert.equal(can(user("bob"), "subscribe", "sensors/secret/x"), false);
  // A subscription some of whose topics are allowed is accepted; the per-message check keeps the
  // denied ones out (evaluateSubscribeScope says "some").
  assert.equal(can(user("bob"), "subscribe", "sensors/#"), true);
  assert.equal(
    evaluateSubscribeScope(rules, user("bob"), "sensors/#"),
    "some",
    "a deny that overlaps narrows it",
  );
  assert.equal(evaluateSubscribeScope(rules, user("bob"), "sensors/+/temp"), "some");
  assert.equal(evaluateSubscribeScope(rules, user("bob"), "sensors/kitchen/+"), "all");
  assert.equal(evaluateSubscribeScope(rules, user("bob"), "sensors/secret/#"), "none");
  assert.equal(evaluateSubscribeScope(rules, user("bob"), "#"), "some");
  assert.equal(evaluateSubscribeScope(rules, user("bob"), "other/#"), "none");
  assert.equal(
    evaluateSubscribeScope(rules, user("mallory"), "#"),
    "none",
    "the deny covers everything first",
  );
  assert.equal(evaluateSubscribeScope(rules, user("alice"), "sensors/#"), "all", "alice's allow comes first");
  assert.equal(can(user("bob"), "subscribe", "$SYS/broker/uptime"), true);
  assert.equal(can(user("bob"), "publish", "$SYS/broker/uptime"), false);
});

test("%u and %c substitution, globs on user names and client ids", () => {
  const rules = parseAcl(EXAMPLE);
  assert.equal(evaluateAcl(rules, user("bob"), "publish", "users/bob/inbox"), true);
  assert.equal(evaluateAcl(rules, user("bob"), "publish", "users/alice/inbox"), false);
  assert.equal(
    evaluateAcl(rules, anon("c1"), "publish", "users/c1/inbox"),
    false,
    "%u never matches anonymous",
  );
  assert.equal(evaluateAcl(rules, anon("dev-42"), "publish", "devices/dev-42/temp"), true);
  assert.equal(evaluateAcl(rules, anon("dev-42"), "publish", "devices/dev-43/temp"), false);
  assert.equal(evaluateAcl(rules, anon("devx"), "publish", "devices/devx/temp"), false, "glob is anchored");
  assert.equal(evaluateAcl(rules, anon("dev-1"), "subscribe", "commands/dev-1"), true, "? is one character");
  assert.equal(evaluateAcl(rules, anon("dev-12"), "subscribe", "commands/dev-12"), false);
  assert.equal(evaluateAcl(rules, anon("anyone"), "subscribe", "public/+/news"), true);
  assert.equal(evaluateAcl(rules, user("bob"), "subscribe", "public/news"), false, "anonymous rule only");
});

test("a client id or user name with wildcards or / cannot widen a %c / %u rule", () => {
  const rules = parseAcl("allow any * all devices/%c/#\nallow user * all u/%u\n");
  assert.equal(evaluateAcl(rules, anon("#"), "subscribe", "devices/#/#"), false);
  assert.equal(evaluateAcl(rules, anon("+"), "subscribe", "devices/+/x"), false);
  assert.equal(evaluateAcl(rules, anon("a/b"), "publish", "devices/a/b/x"), false);
  assert.equal(evaluateAcl(rules, anon("a"), "publish", "devices/a/b/x"), true);
  assert.equal(evaluateAcl(rules, user("x/y"), "publish", "u/x/y"), false);
});

test("$share/<group>/ is removed before a subscribe check", () => {
  const rules = parseAcl("allow any * subscribe jobs/#\n");
  assert.equal(evaluateAcl(rules, anon("w"), "subscribe", "$share/workers/jobs/+"), true);
  assert.equal(evaluateAcl(rules, anon("w"), "subscribe", "$share/workers/other"), false);
});

test("call and register match procedure URIs level by level on dots", () => {
  const rules = parseAcl(EXAMPLE);
  assert.equal(evaluateAcl(rules, user("bob"), "call", "com.example.add"), true);
  assert.equal(evaluateAcl(rules, user("bob"), "call", "com.other.add"), false);
  assert.equal(evaluateAcl(rules, user("svc"), "register", "com.example.add"), true);
  assert.equal(evaluateAcl(rules, user("svc"), "register", "com.example.math.add"), false);
  assert.equal(evaluateAcl(rules, user("bob"), "register", "com.example.add"), false);
});

test("parse errors name the line and the problem", () => {
  assert.throws(
    () => parseAcl("\n\npermit any * all #", "acl.conf"),
    /acl\.conf:3: first word must be allow or deny/,
  );
  assert.throws(() => parseAcl("allow group x all #", "a"), /a:1: unknown subject "group"/);
  assert.throws(() => parseAcl("allow any bob all #", "a"), /a:1: the name pattern of "any" must be \*/);
  assert.throws(() => parseAcl("allow user bob pub #", "a"), /a:1: unknown action "pub"/);
  assert.throws(() => parseAcl("allow user bob all a/#/b", "a"), /a:1: bad topic filter "a\/#\/b"/);
  assert.throws(() => parseAcl("allow user bob all", "a"), /a:1: expected/);
});

test("Acl caches decisions per principal and keeps answering correctly past the bound", () => {
  const acl = Acl.parse("allow any * publish a/#\n");
  const p = anon("c");
  for (let i = 0; i < 3000; i++) {
    assert.equal(acl.check(p, "publish", `a/${i}`), true);
    assert.equal(acl.check(p, "publish", `b/${i}`), false);
  }
  assert.equal(acl.check(p, "publish", "a/1"), true);
  assert.equal(acl.check(p, "subscribe", "a/1"), false, "actions are cached apart");
  assert.equal(acl.check(anon("d"), "publish", "b/1"), false);
});
