/** SCRAM entries of the users file (RFC 5802 keys): derivation, format, parsing, `switchboard passwd`. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { deriveScram, formatScram, parseScram, scramEntries } from "../../../src/core/auth/scram.js";
import { UsersFile, UsersFileError } from "../../../src/core/auth/users-file.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "src", "cli", "main.js");

test("RFC 5802 §3: StoredKey = H(HMAC(SaltedPassword, 'Client Key')), ServerKey = HMAC(SaltedPassword, 'Server Key')", () => {
  const salt = Buffer.from("0123456789abcdef");
  for (const [hash, len] of [
    ["sha1", 20],
    ["sha256", 32],
  ] as const) {
    const c = deriveScram(Buffer.from("pencil"), hash, salt, 4096);
    const salted = pbkdf2Sync("pencil", salt, 4096, len, hash);
    assert.deepEqual(
      c.storedKey,
      createHash(hash).update(createHmac(hash, salted).update("Client Key").digest()).digest(),
    );
    assert.deepEqual(c.serverKey, createHmac(hash, salted).update("Server Key").digest());
    const round = parseScram(formatScram(hash, c));
    assert.deepEqual(round, { hash, creds: c });
  }
});

test("users file: SCRAM entries after the hash are parsed, kept on rewrite; malformed ones are refused", () => {
  const hash = "$scrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=";
  const line = `sam:${hash} ${scramEntries(Buffer.from("pencil"))}`;
  const f = UsersFile.parse(`# c\n${line}\nold:${hash}\n`);
  assert.equal(f.users().get("sam"), hash);
  assert.deepEqual([...f.scram().get("sam")!.keys()].sort(), ["sha1", "sha256"]);
  assert.equal(f.scram().has("old"), false);
  assert.equal(f.toString(), `# c\n${line}\nold:${hash}\n`);
  assert.throws(() => UsersFile.parse(`sam:${hash} $scram-sha-256$i=1$x$y$z\n`), UsersFileError);
});

test("switchboard passwd writes SCRAM entries that FileAuth hands out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-scram-"));
  try {
    const file = join(dir, "users.txt");
    const r = spawnSync(process.execPath, [MAIN, "passwd", file, "sam"], {
      input: "pencil\n",
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr.toString());
    const parsed = UsersFile.parse(readFileSync(file, "utf8"));
    const auth = new FileAuth({ users: parsed.users(), scram: parsed.scram(), allowAnonymous: false });
    const creds = await auth.scramCredentials("sam", "sha256");
    assert.ok(creds);
    const salted = pbkdf2Sync("pencil", creds.salt, creds.iterations, 32, "sha256");
    assert.deepEqual(creds.serverKey, createHmac("sha256", salted).update("Server Key").digest());
    assert.equal(await auth.scramCredentials("nobody", "sha1"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
