import assert from "node:assert/strict";
import { test } from "node:test";
import { checkAnonymousPolicy, isLoopback } from "../../src/config/policy.js";

test("loopback addresses", () => {
  for (const h of [
    "127.0.0.1",
    "127.1.2.3",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "localhost",
    "LocalHost",
    "::ffff:127.0.0.1",
  ]) {
    assert.equal(isLoopback(h), true, h);
  }
  for (const h of [
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "192.168.1.2",
    "::2",
    "example.com",
    "128.0.0.1",
    "::ffff:10.0.0.1",
  ]) {
    assert.equal(isLoopback(h), false, h);
  }
});

test("anonymous policy table", () => {
  const users = "/etc/sb/users";
  const cases: Array<[string, boolean | undefined, string | undefined, "allow" | "deny" | "error"]> = [
    // host, allowAnonymous, usersFile, outcome
    ["127.0.0.1", undefined, undefined, "allow"],
    ["::1", undefined, undefined, "allow"],
    ["localhost", true, undefined, "allow"],
    ["127.0.0.1", false, undefined, "error"],
    ["0.0.0.0", undefined, undefined, "error"],
    ["0.0.0.0", false, undefined, "error"],
    ["0.0.0.0", true, undefined, "allow"],
    ["10.1.2.3", undefined, undefined, "error"],
    ["127.0.0.1", undefined, users, "deny"],
    ["127.0.0.1", false, users, "deny"],
    ["127.0.0.1", true, users, "allow"],
    ["0.0.0.0", undefined, users, "deny"],
    ["0.0.0.0", true, users, "allow"],
  ];
  for (const [host, allowAnonymous, usersFile, outcome] of cases) {
    const p = checkAnonymousPolicy({ host, allowAnonymous, auth: { usersFile } });
    const label = `${host} allowAnonymous=${allowAnonymous} usersFile=${usersFile}`;
    if (outcome === "error") {
      assert.equal(p.allowAnonymous, false, label);
      assert.ok(p.error, label);
    } else {
      assert.equal(p.error, undefined, label);
      assert.equal(p.allowAnonymous, outcome === "allow", label);
      // the start-up log says so whenever anonymous clients are allowed
      assert.equal(p.warning !== undefined, outcome === "allow", label);
      if (p.warning) assert.match(p.warning, /anonymous/);
    }
  }
});

test("the refusal explains how to fix it", () => {
  const p = checkAnonymousPolicy({ host: "0.0.0.0", auth: {} });
  assert.match(p.error ?? "", /0\.0\.0\.0/);
  assert.match(p.error ?? "", /usersFile/);
  assert.match(p.error ?? "", /allowAnonymous: true/);
});
