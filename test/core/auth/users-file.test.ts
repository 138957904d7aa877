import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  hashPassword,
  parseHash,
  readUsersFile,
  UsersFile,
  verifyPassword,
  writeUsersFile,
} from "../../../src/core/auth/users-file.js";

test("hashPassword makes a salted scrypt hash that verifyPassword accepts", async () => {
  const h1 = await hashPassword("correct horse");
  const h2 = await hashPassword("correct horse");
  assert.match(h1, /^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  assert.notEqual(h1, h2, "random salt");
  assert.equal(parseHash(h1)?.salt.length, 16);
  assert.equal(await verifyPassword("correct horse", h1), true);
  assert.equal(await verifyPassword(Buffer.from("correct horse"), h2), true);
  assert.equal(await verifyPassword("correct horse!", h1), false);
  assert.equal(await verifyPassword("", h1), false);
  assert.equal(await verifyPassword("x", "plaintext"), false);
  assert.equal(await verifyPassword("x", "$scrypt$N=3,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=="), false);
});

test("parseHash refuses parameters that would exhaust memory", () => {
  const salt = Buffer.alloc(16).toString("base64");
  const key = Buffer.alloc(32).toString("base64");
  assert.ok(parseHash(`$scrypt$N=16384,r=8,p=1$${salt}$${key}`));
  assert.equal(parseHash(`$scrypt$N=67108864,r=8,p=1$${salt}$${key}`), undefined);
  assert.equal(parseHash(`$scrypt$N=16384,r=999,p=1$${salt}$${key}`), undefined);
});

test("users file parsing: comments kept, errors name the line", async () => {
  const h = await hashPassword("pw");
  const text = `# users\n\nalice:${h}\n  # indented comment\nbob:${h}\n`;
  const f = UsersFile.parse(text, "users.txt");
  assert.deepEqual([...f.users().keys()], ["alice", "bob"]);
  assert.equal(f.toString(), text);
  assert.throws(
    () => UsersFile.parse("alice\n", "users.txt"),
    /^UsersFileError: users\.txt:1: expected user:hash/,
  );
  assert.throws(() => UsersFile.parse(`# x\nalice:nothash\n`, "u"), /u:2: unrecognised password hash/);
  assert.throws(() => UsersFile.parse(`alice:${h}\nalice:${h}\n`, "u"), /u:2: user alice appears twice/);
  assert.throws(() => UsersFile.parse(`al ice:${h}\n`, "u"), /u:1: user name must not contain spaces/);
});

test("set replaces in place, delete removes, writes are atomic with mode 0600", async () => {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-users-"));
  try {
    const path = join(dir, "users");
    const f = UsersFile.empty();
    f.set("alice", await hashPassword("a"));
    f.set("bob", await hashPassword("b"));
    f.set("alice", await hashPassword("a2"));
    assert.deepEqual([...f.users().keys()], ["alice", "bob"]);
    assert.throws(() => f.set("a:b", "x"), /must not contain ':'/);
    await writeUsersFile(path, f);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ["users"], "no temp file left behind");
    const back = await readUsersFile(path);
    assert.equal(await verifyPassword("a2", back.get("alice")!), true);
    assert.equal(back.delete("alice"), true);
    assert.equal(back.delete("alice"), false);
    await writeUsersFile(path, back);
    assert.doesNotMatch(await readFile(path, "utf8"), /alice/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
