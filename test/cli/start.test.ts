/**
 * `switchboard start` as users run it: a real process with the default SQLite store, real clients,
 * SIGTERM for a graceful stop (MQTT 5 clients get DISCONNECT 0x8B, exit code 0) and a restart
 * that finds the persistent session and its queued message again.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { hashPassword } from "../../src/core/auth/users-file.js";
import { startProgram, waitFor } from "../helpers/external.js";
import { collect, connect, endClient } from "../helpers/mqtt-client.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

function startSwitchboard(args: string[]) {
  const p = startProgram(
    process.execPath,
    [
      MAIN,
      "start",
      "--mqtt-port",
      "0",
      "--http-port",
      "0",
      "--stomp-port",
      "0",
      "--wamp-port",
      "0",
      "--amqp-port",
      "off",
      "--xmpp-port",
      "0",
      "--coap-port",
      "off",
      ...args,
    ],
    /mqtt listening.* port=(\d+)/,
  );
  return { ...p, port: p.started.then((m) => Number(m[1])) };
}

test("start: SIGTERM sends MQTT 5 DISCONNECT 0x8B and exits 0; sqlite keeps the session across restarts", {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-start-"));
  const args = ["--data-dir", join(dir, "data")];
  let sb = startSwitchboard(args);
  try {
    let port = await sb.port;
    const sub = await connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: "durable",
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    await sub.subscribeAsync("keep/#", { qos: 1 });
    const disconnect = new Promise<number | undefined>((resolve) =>
      sub.on("disconnect", (p) => resolve(p.reasonCode)),
    );
    sb.child.kill("SIGTERM");
    assert.equal(await disconnect, 0x8b);
    assert.equal(await sb.exited, 0);
    await endClient(sub, true);

    // The session and its subscription come back from ./data; a message published while the
    // subscriber is away is queued for it.
    sb = startSwitchboard(args);
    port = await sb.port;
    const pub = await connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: "pub" });
    await pub.publishAsync("keep/it", "while you were away", { qos: 1 });
    await endClient(pub);
    // Listen before the CONNACK: the queued message follows it immediately.
    const back = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: "durable",
      clean: false,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 3600 },
    });
    const got = collect(back);
    const [m] = await got.next(1);
    assert.equal(m!.payload.toString(), "while you were away");
    await endClient(back);
  } finally {
    sb.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

test("start: a users file and an ACL decide who may connect, publish and subscribe", {
  timeout: 30_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-auth-"));
  await writeFile(join(dir, "users"), `alice:${await hashPassword("wonderland")}\n`, { mode: 0o600 });
  await writeFile(
    join(dir, "acl"),
    "allow user alice all sensors/%u/#\nallow user alice subscribe public/#\ndeny any * all #\n",
  );
  const sb = startSwitchboard(["--store", "memory", "--config", await writeConfig(dir)]);
  try {
    const port = await sb.port;
    const url = `mqtt://127.0.0.1:${port}`;
    await assert.rejects(
      connect(url, { protocolVersion: 5, username: "alice", password: "wrong" }),
      /Bad User Name or Password|0x86|134/i,
    );
    await assert.rejects(connect(url, { protocolVersion: 5 }), /Not authorized|0x87|135/i);
    const alice = await connect(url, { protocolVersion: 5, username: "alice", password: "wonderland" });
    const granted = await alice.subscribeAsync("sensors/alice/#", { qos: 1 });
    assert.equal(granted[0]!.qos, 1);
    await assert.rejects(alice.subscribeAsync("sensors/bob/#", { qos: 1 }), /Not authorized/);
    const got = collect(alice);
    await alice.publishAsync("sensors/alice/temp", "21", { qos: 1 });
    await assert.rejects(alice.publishAsync("sensors/bob/temp", "22", { qos: 1 }), /Not authorized|135/i);
    const [m] = await got.next(1);
    assert.equal(m!.topic, "sensors/alice/temp");
    // SIGHUP re-reads the ACL: bob's sensors become writable for alice.
    await writeFile(join(dir, "acl"), "allow user alice all sensors/#\ndeny any * all #\n");
    sb.child.kill("SIGHUP");
    await waitFor(() => sb.output().includes("users and ACL reloaded"));
    await alice.publishAsync("sensors/bob/temp", "22", { qos: 1 });
    await endClient(alice);
  } finally {
    sb.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

async function writeConfig(dir: string): Promise<string> {
  const file = join(dir, "switchboard.yaml");
  await writeFile(file, "auth:\n  usersFile: users\n  aclFile: acl\n");
  return file;
}
