import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readUsersFile, verifyPassword } from "../../src/core/auth/users-file.js";
import { deriveWampCraKey, parseWampCraFile } from "../../src/core/auth/wampcra-file.js";

// dist/test/cli/ -> dist/src/cli/main.js
const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-cli-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("--version prints package.json's version", async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const r = await cli(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("--help, help and start --help describe the commands and flags", async () => {
  for (const args of [["--help"], ["help"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /switchboard <command>/);
    assert.match(r.stdout, /passwd/);
  }
  const r = await cli(["start", "--help"]);
  assert.equal(r.code, 0);
  for (const flag of [
    "--config",
    "--host",
    "--data-dir",
    "--store",
    "--mqtt-port",
    "--mqtts-port",
    "--stomp-port",
    "--stomps-port",
    "--http-port",
    "--wamp-port",
    "--log-level",
    "--amqp-port",
    "--amqps-port",
    "--https-port",
    "--allow-anonymous",
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test("bad usage exits 2 with a message naming the flag", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["start", "--bogus"], /unknown option --bogus/],
    [["start", "--mqtt-port", "12x"], /--mqtt-port: must be an integer 0-65535 or "off"/],
    [["start", "--http-port=70000"], /--http-port: must be an integer/],
    [["start", "--store", "postgres"], /--store: must be one of/],
    [["start", "--log-level"], /--log-level: needs a value/],
    [["start", "stray"], /unexpected argument "stray"/],
    [["--frobnicate"], /unknown option --frobnicate/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["passwd", "only-file"], /passwd needs FILE and USER/],
    [["passwd", "f", "bad:name"], /must not contain ':'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message, args.join(" "));
  }
});

test("start refuses a bad config file naming the key, and a public address without users", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "sb.yaml");
    await writeFile(file, "mqtt:\n  port: 99999\n");
    const r = await cli(["start", "--config", file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /config error: mqtt\.port: must be an integer 0-65535 or "off"/);

    const r2 = await cli(["start", "--host", "0.0.0.0", "--store", "memory", "--data-dir", dir]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /not loopback/);
  });
});

test("passwd adds, changes and deletes users; the file is mode 0600", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "users");
    let r = await cli(["passwd", file, "alice"], "s3cret\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    r = await cli(["passwd", file, "bob"], "hunter2\r\n");
    assert.equal(r.code, 0, r.stderr);
    let users = (await readUsersFile(file)).users();
    assert.deepEqual([...users.keys()], ["alice", "bob"]);
    assert.equal(await verifyPassword("s3cret", users.get("alice")!), true);
    assert.equal(await verifyPassword("hunter2", users.get("bob")!), true);

    // change alice's password; comments survive a rewrite
    await writeFile(file, `# our users\n${await readFile(file, "utf8")}`);
    r = await cli(["passwd", file, "alice"], "n3w");
    assert.equal(r.code, 0, r.stderr);
    users = (await readUsersFile(file)).users();
    assert.equal(await verifyPassword("n3w", users.get("alice")!), true);
    assert.equal(await verifyPassword("s3cret", users.get("alice")!), false);
    assert.match(await readFile(file, "utf8"), /^# our users\n/);

    r = await cli(["passwd", "--delete", file, "alice"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...(await readUsersFile(file)).users().keys()], ["bob"]);
    r = await cli(["passwd", "--delete", file, "alice"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no user alice/);
  });
});

test("passwd refuses an empty password or empty stdin", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "users");
    let r = await cli(["passwd", file, "alice"], "");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no password/);
    r = await cli(["passwd", file, "alice"], "\n");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /empty/);
    await assert.rejects(stat(file), { code: "ENOENT" });
  });
});

test("start runs until SIGTERM, then shuts down and exits 0", async () => {
  await withTempDir(async (dir) => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "start",
        "--store",
        "memory",
        "--data-dir",
        dir,
        "--mqtt-port",
        "0",
        "--http-port",
        "off",
        "--wamp-port",
        "off",
        "--amqp-port",
        "off",
        "--xmpp-port",
        "off",
        "--coap-port",
        "off",
        "--mqtts-port",
        "off",
        "--stomp-port",
        "0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr}`)), 10_000);
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (/mqtt listening/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("close", () => reject(new Error(`broker exited early: ${stderr}`)));
    });
    assert.match(stderr, /WARN +anonymous clients are allowed/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /shutting down signal=SIGTERM/);
  });
});

test("wampcra adds, changes and deletes WAMP-CRA secrets; only the salted derived key is stored", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "wampcra");
    let r = await cli(["wampcra", file, "bob", "service"], "s3cret\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    r = await cli(["wampcra", file, "carol"], "other\n");
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(file, "utf8");
    assert.ok(!text.includes("s3cret"));
    let secrets = parseWampCraFile(text);
    const bob = secrets.get("bob")!;
    assert.equal(bob.role, "service");
    assert.equal(secrets.get("carol")!.role, "user");
    assert.equal(bob.key.toString(), deriveWampCraKey("s3cret", bob.salt!, bob.iterations!, bob.keylen!));
    r = await cli(["wampcra", file, "bob", "service"], "n3w\n");
    secrets = parseWampCraFile(await readFile(file, "utf8"));
    const changed = secrets.get("bob")!;
    assert.equal(
      changed.key.toString(),
      deriveWampCraKey("n3w", changed.salt!, changed.iterations!, changed.keylen!),
    );
    r = await cli(["wampcra", "--delete", file, "bob"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...parseWampCraFile(await readFile(file, "utf8")).keys()], ["carol"]);
    r = await cli(["wampcra", file, "bad:id"], "x\n");
    assert.equal(r.code, 2);
  });
});
