/**
 * Interop with libcoap's command-line client (Debian package libcoap3-bin): GET, PUT, block-wise
 * both ways and Observe, as an independent CoAP implementation. Skipped when coap-client is
 * missing on a developer machine; a failure under CI=true (see .ci/run).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { requireProgram, run, startProgram, waitFor } from "../helpers/external.js";
import { collect, connect, endClient } from "../helpers/mqtt-client.js";

/**
 * Debian's libcoap3-bin names its programs by TLS library (coap-client-notls, -openssl, -gnutls);
 * other builds install plain coap-client.
 */
const CLIENTS = ["coap-client-notls", "coap-client", "coap-client-openssl", "coap-client-gnutls"];
const CLIENT =
  CLIENTS.find((p) => !spawnSync(p, ["-h"], { stdio: "ignore", timeout: 5000 }).error) ?? CLIENTS[0]!;

const uri = (b: TestBroker, path: string) => `coap://127.0.0.1:${b.coapPort}${path}`;

function lastValue(b: TestBroker, topic: string): Buffer | undefined {
  let v: Buffer | undefined;
  b.handle.router.retainedMatching(topic, (m) => {
    v = m.payload;
  });
  return v;
}

test("libcoap coap-client: PUT then GET a topic; PUT reaches an MQTT subscriber", {
  timeout: 30_000,
}, async (t) => {
  if (!requireProgram(t, CLIENT, ["-h"])) return;
  const b = await startTestBroker();
  const sub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "mqtt-sub" });
  try {
    const got = collect(sub);
    await sub.subscribeAsync("lib/coap", { qos: 1 });
    const put = await run(CLIENT, ["-m", "put", "-t", "0", "-e", "from libcoap", uri(b, "/ps/lib/coap")]);
    assert.equal(put.code, 0, put.stderr);
    const [m] = await got.next(1);
    assert.equal(m!.payload.toString(), "from libcoap");
    assert.equal(m!.packet.properties?.contentType, "text/plain; charset=utf-8");
    const get = await run(CLIENT, ["-m", "get", uri(b, "/ps/lib/coap")]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.toString().trim(), "from libcoap");
  } finally {
    await endClient(sub, true);
    await b.close();
  }
});

test("libcoap coap-client: block-wise PUT (Block1) and GET (Block2) of 100 KiB", {
  timeout: 60_000,
}, async (t) => {
  if (!requireProgram(t, CLIENT, ["-h"])) return;
  const b = await startTestBroker({ coap: { rateLimit: 0 } });
  const dir = await mkdtemp(join(tmpdir(), "sb-libcoap-"));
  try {
    // Printable bytes: coap-client writes the payload to stdout as it is.
    const body = Buffer.from(randomBytes(75 * 1024).toString("base64"));
    const file = join(dir, "body.txt");
    await writeFile(file, body);
    const put = await run(CLIENT, ["-m", "put", "-b", "1024", "-f", file, uri(b, "/ps/lib/big")], {
      timeoutMs: 45_000,
    });
    assert.equal(put.code, 0, put.stderr);
    assert.ok(lastValue(b, "lib/big")?.equals(body), "reassembled upload equals the file");
    const get = await run(CLIENT, ["-m", "get", "-b", "512", uri(b, "/ps/lib/big")], {
      timeoutMs: 45_000,
    });
    assert.equal(get.code, 0, get.stderr);
    assert.ok(get.stdout.subarray(0, body.length).equals(body), `got ${get.stdout.length} bytes`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await b.close();
  }
});

test("libcoap coap-client: observe a topic and receive MQTT publishes as notifications", {
  timeout: 30_000,
}, async (t) => {
  if (!requireProgram(t, CLIENT, ["-h"])) return;
  const b = await startTestBroker();
  const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "mqtt-pub" });
  let obs: ReturnType<typeof startProgram> | undefined;
  try {
    await pub.publishAsync("lib/obs", "v0", { qos: 1, retain: true });
    obs = startProgram(CLIENT, ["-m", "get", "-s", "6", uri(b, "/ps/lib/obs")], /$^/, 20_000);
    await waitFor(() => b.handle.router.subscriptionCount === 1, 10_000);
    for (const v of ["v1", "v2", "v3"]) {
      await pub.publishAsync("lib/obs", v, { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => obs!.stdout().toString().includes("v3"), 10_000);
    const out = obs.stdout().toString();
    for (const v of ["v0", "v1", "v2", "v3"]) assert.ok(out.includes(v), `${v} in ${JSON.stringify(out)}`);
  } finally {
    obs?.child.kill("SIGTERM");
    if (obs) await obs.exited;
    await endClient(pub, true);
    await b.close();
  }
});

test("libcoap coap-client: block-wise notifications (first block with Observe, the rest by GET)", {
  timeout: 30_000,
}, async (t) => {
  if (!requireProgram(t, CLIENT, ["-h"])) return;
  const b = await startTestBroker({ coap: { rateLimit: 0 } });
  const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "mqtt-pub" });
  let obs: ReturnType<typeof startProgram> | undefined;
  try {
    // Printable and distinct, each several blocks long: found whole in coap-client's stdout or not.
    const bodies = [0, 1].map(() => Buffer.from(randomBytes(3 * 1024).toString("base64")));
    obs = startProgram(CLIENT, ["-m", "get", "-s", "8", uri(b, "/ps/lib/obsbig")], /$^/, 20_000);
    await waitFor(() => b.handle.router.subscriptionCount === 1, 10_000);
    for (const body of bodies) {
      await pub.publishAsync("lib/obsbig", body, { qos: 1 });
      await waitFor(() => obs!.stdout().includes(body), 10_000);
    }
    const out = obs.stdout();
    for (const [i, body] of bodies.entries())
      assert.ok(out.includes(body), `notification ${i} (${body.length} bytes) whole in ${out.length} bytes`);
  } finally {
    obs?.child.kill("SIGTERM");
    if (obs) await obs.exited;
    await endClient(pub, true);
    await b.close();
  }
});

test("libcoap coap-client: /.well-known/core discovery filtered by rt", { timeout: 30_000 }, async (t) => {
  if (!requireProgram(t, CLIENT, ["-h"])) return;
  const b = await startTestBroker();
  try {
    const r = await run(CLIENT, ["-m", "get", uri(b, "/.well-known/core?rt=core.ps")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString().trim(), '</ps>;rt="core.ps";ct=40');
  } finally {
    await b.close();
  }
});
