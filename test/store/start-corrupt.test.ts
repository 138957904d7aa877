/**
 * `switchboard start` over a data directory whose switchboard.db is garbage: the process must refuse
 * to start (non-zero exit, the file's path on stderr) and leave the file exactly as it was, never
 * starting empty over it.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startProgram } from "../helpers/external.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

test("start: a garbage switchboard.db stops the start with its path on stderr and is left untouched", {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-corrupt-"));
  try {
    const dataDir = join(dir, "data");
    await mkdir(dataDir);
    const file = join(dataDir, "switchboard.db");
    const garbage = Buffer.alloc(64 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 167 + (i >> 9)) & 0xff;
    await writeFile(file, garbage);

    const sb = startProgram(
      process.execPath,
      [
        MAIN,
        "start",
        "--mqtt-port",
        "0",
        "--http-port",
        "off",
        "--stomp-port",
        "0",
        "--wamp-port",
        "0",
        "--amqp-port",
        "off",
        "--xmpp-port",
        "off",
        "--coap-port",
        "off",
        "--data-dir",
        dataDir,
      ],
      /mqtt listening.* port=(\d+)/,
    );
    let stderr = "";
    sb.child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => sb.child.kill("SIGKILL"), 20_000);
    const code = await sb.exited;
    clearTimeout(timer);
    assert.notEqual(code, 0, `exit code ${code}; output: ${sb.output()}`);
    assert.notEqual(code, null, `killed: it did not stop by itself; output: ${sb.output()}`);
    assert.ok(stderr.includes(file), `stderr names ${file}: ${stderr}`);
    assert.match(stderr, /file is not a database/);
    assert.doesNotMatch(sb.output(), /mqtt listening/);
    assert.ok((await readFile(file)).equals(garbage), "switchboard.db is unchanged");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
