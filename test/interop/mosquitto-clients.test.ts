/** Interop with Eclipse Mosquitto's command-line clients (Debian package mosquitto-clients). */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startTestBroker } from "../helpers/broker.js";
import { requireProgram, run, startProgram, waitFor } from "../helpers/external.js";
import { delay } from "../helpers/mqtt-client.js";
import { selfSignedCert } from "../transports/helpers.js";

for (const version of ["mqttv311", "mqttv5"]) {
  test(`mosquitto_pub -> mosquitto_sub (${version}, QoS 0/1/2)`, { timeout: 20_000 }, async (t) => {
    if (!requireProgram(t, "mosquitto_sub")) return;
    const b = await startTestBroker();
    const port = String(b.mqttPort);
    let sub: ReturnType<typeof startProgram> | undefined;
    try {
      // mosquitto_sub's stdout is block-buffered on a pipe, so readiness is read off the broker.
      sub = startProgram(
        "mosquitto_sub",
        [
          "-h",
          "127.0.0.1",
          "-p",
          port,
          "-V",
          version,
          "-i",
          "tour-sub",
          "-t",
          "tour/#",
          "-q",
          "2",
          "-v",
          "-C",
          "3",
        ],
        /$^/,
      );
      await waitFor(
        () => b.handle.router.presence.get("tour-sub")?.subscriptions.includes("tour/#") === true,
      );
      for (const q of ["0", "1", "2"]) {
        const r = await run("mosquitto_pub", [
          "-h",
          "127.0.0.1",
          "-p",
          port,
          "-V",
          version,
          "-t",
          `tour/q${q}`,
          "-q",
          q,
          "-m",
          `hello ${q}`,
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal(await Promise.race([sub.exited, delay(5000).then(() => "timeout")]), 0);
      const lines = sub.stdout().toString().trim().split("\n");
      assert.deepEqual(lines, ["tour/q0 hello 0", "tour/q1 hello 1", "tour/q2 hello 2"]);
    } finally {
      sub?.child.kill("SIGKILL");
      await b.close();
    }
  });
}

test("mosquitto_pub retained + binary payload -> mosquitto_sub receives the exact bytes", {
  timeout: 20_000,
}, async (t) => {
  if (!requireProgram(t, "mosquitto_pub")) return;
  const b = await startTestBroker();
  const port = String(b.mqttPort);
  try {
    const payload = Buffer.concat([Buffer.from([0, 1, 2, 255, 0]), randomBytes(64 * 1024)]);
    const r = await run(
      "mosquitto_pub",
      ["-h", "127.0.0.1", "-p", port, "-t", "bin/data", "-q", "1", "-r", "-s"],
      { input: payload },
    );
    assert.equal(r.code, 0, r.stderr);
    // -N: no newline after the payload, so stdout is exactly the bytes.
    const s = await run("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-t", "bin/#", "-C", "1", "-N"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(Buffer.compare(s.stdout, payload), 0);
  } finally {
    await b.close();
  }
});

test("mosquitto_sub on $SYS/broker/version gets the retained version", { timeout: 20_000 }, async (t) => {
  if (!requireProgram(t, "mosquitto_sub")) return;
  const b = await startTestBroker();
  try {
    const s = await run("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(b.mqttPort),
      "-t",
      "$SYS/broker/version",
      "-C",
      "1",
    ]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout.toString(), /^switchboard \d+\.\d+\.\d+/);
  } finally {
    await b.close();
  }
});

test("MQTT over TLS (--mqtts-port): mosquitto_pub/mosquitto_sub verify the certificate and exchange a message", {
  timeout: 20_000,
}, async (t) => {
  if (!requireProgram(t, "mosquitto_sub")) return;
  const dir = await mkdtemp(join(tmpdir(), "switchboard-tls-"));
  const { cert, key } = selfSignedCert();
  await writeFile(join(dir, "cert.pem"), cert);
  await writeFile(join(dir, "key.pem"), key);
  const b = await startTestBroker({
    config: (c) => {
      c.tls = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
      c.mqtt.tlsPort = 0;
    },
  });
  const port = String(b.handle.ports.mqtts);
  const tlsArgs = ["-h", "localhost", "-p", port, "--cafile", join(dir, "cert.pem")];
  let sub: ReturnType<typeof startProgram> | undefined;
  try {
    sub = startProgram("mosquitto_sub", [...tlsArgs, "-i", "tls-sub", "-t", "secure/#", "-C", "1"], /$^/);
    await waitFor(() => b.handle.router.presence.get("tls-sub")?.subscriptions.includes("secure/#") === true);
    const info = b.handle.router.presence.get("tls-sub")!;
    assert.equal(info.transport, "tls");
    const r = await run("mosquitto_pub", [...tlsArgs, "-t", "secure/x", "-q", "1", "-m", "over tls"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Promise.race([sub.exited, delay(5000).then(() => "timeout")]), 0);
    assert.equal(sub.stdout().toString(), "over tls\n");
  } finally {
    sub?.child.kill("SIGKILL");
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});
