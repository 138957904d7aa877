import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { validateConfig } from "../../../src/config/load.js";
import { createAuth } from "../../../src/core/auth/file-auth.js";
import { hashPassword } from "../../../src/core/auth/users-file.js";
import type { Credentials } from "../../../src/core/auth.js";

const creds = (username?: string, password?: string, clientId = "c1"): Credentials => ({
  protocol: "mqtt",
  clientId,
  username,
  password: password === undefined ? undefined : Buffer.from(password),
  secure: false,
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-auth-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("no users file on loopback: anonymous clients are allowed and may do everything", async () => {
  const auth = await createAuth(validateConfig({}));
  const r = await auth.authenticate(creds());
  assert.ok(r.ok);
  assert.equal(r.principal.anonymous, true);
  const named = await auth.authenticate(creds("someone", "x"));
  assert.ok(named.ok);
  assert.equal(named.principal.username, undefined, "an unverifiable name is not trusted");
  assert.equal(auth.authorize(r.principal, "publish", "any/topic"), true);
});

test("createAuth refuses a public address with no users file", async () => {
  await assert.rejects(createAuth(validateConfig({ host: "0.0.0.0" })), /not loopback/);
  const open = await createAuth(validateConfig({ host: "0.0.0.0", allowAnonymous: true }));
  assert.ok((await open.authenticate(creds())).ok);
});

test("users file: good password ok, wrong password or unknown user bad-credentials, anonymous not-authorized", async () => {
  await withTempDir(async (dir) => {
    const usersFile = join(dir, "users");
    await writeFile(usersFile, `alice:${await hashPassword("wonderland")}\n`);
    const aclFile = join(dir, "acl");
    await writeFile(aclFile, "allow user alice all alice/#\nallow any * subscribe public/#\n");
    const auth = await createAuth(validateConfig({ auth: { usersFile, aclFile } }));

    const ok = await auth.authenticate(creds("alice", "wonderland"));
    assert.ok(ok.ok);
    assert.deepEqual(ok.principal, { username: "alice", clientId: "c1", protocol: "mqtt", anonymous: false });
    const again = await auth.authenticate(creds("alice", "wonderland", "c2"));
    assert.ok(again.ok, "the verification cache answers the same");
    assert.deepEqual(await auth.authenticate(creds("alice", "wrong")), {
      ok: false,
      reason: "bad-credentials",
    });
    assert.deepEqual(await auth.authenticate(creds("alice")), { ok: false, reason: "bad-credentials" });
    assert.deepEqual(await auth.authenticate(creds("nobody", "x")), { ok: false, reason: "bad-credentials" });
    assert.deepEqual(await auth.authenticate(creds()), { ok: false, reason: "not-authorized" });

    assert.equal(auth.authorize(ok.principal, "publish", "alice/x"), true);
    assert.equal(auth.authorize(ok.principal, "publish", "bob/x"), false);
    assert.equal(auth.authorize(ok.principal, "subscribe", "public/#"), true);

    // reload picks up a changed password and ACL
    await writeFile(usersFile, `alice:${await hashPassword("looking-glass")}\n`);
    await writeFile(aclFile, "allow any * all #\n");
    await auth.reload();
    assert.equal((await auth.authenticate(creds("alice", "wonderland"))).ok, false);
    assert.equal((await auth.authenticate(creds("alice", "looking-glass"))).ok, true);
    assert.equal(auth.authorize(ok.principal, "publish", "bob/x"), true);
  });
});

test("users file with allowAnonymous: true admits anonymous clients too", async () => {
  await withTempDir(async (dir) => {
    const usersFile = join(dir, "users");
    await writeFile(usersFile, `alice:${await hashPassword("pw")}\n`);
    const auth = await createAuth(validateConfig({ allowAnonymous: true, auth: { usersFile } }));
    const r = await auth.authenticate(creds());
    assert.ok(r.ok);
    assert.equal(r.principal.anonymous, true);
    assert.equal((await auth.authenticate(creds("alice", "nope"))).ok, false);
  });
});

test("createAuth reports a malformed users or ACL file by line", async () => {
  await withTempDir(async (dir) => {
    const usersFile = join(dir, "users");
    await writeFile(usersFile, "alice\n");
    await assert.rejects(createAuth(validateConfig({ auth: { usersFile } })), /users:1: expected user:hash/);
    const aclFile = join(dir, "acl");
    await writeFile(aclFile, "allow everyone * all #\n");
    await assert.rejects(createAuth(validateConfig({ auth: { aclFile } })), /acl:1: unknown subject/);
  });
});
