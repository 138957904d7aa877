/** HTTPS / wss (http.tlsPort, "--https-port"): the same WebSocket endpoints over TLS. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import WebSocket from "ws";
import { startTestBroker } from "../helpers/broker.js";
import { hasOpenssl, selfSignedCert } from "./helpers.js";

test("wss: MQTT.js over wss:///mqtt and a STOMP frame over wss:///stomp, certificate verified", {
  timeout: 30_000,
  skip: !hasOpenssl() && "no openssl",
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-wss-"));
  const { cert, key } = selfSignedCert();
  await writeFile(join(dir, "c.pem"), cert);
  await writeFile(join(dir, "k.pem"), key);
  const b = await startTestBroker({
    config: (c) => {
      c.tls.cert = join(dir, "c.pem");
      c.tls.key = join(dir, "k.pem");
      c.http.tlsPort = 0;
    },
  });
  try {
    const port = b.handle.ports.https!;
    assert.ok(port > 0 && port !== b.httpPort);
    const client = await mqtt.connectAsync(`wss://localhost:${port}/mqtt`, { ca: cert, reconnectPeriod: 0 });
    try {
      await client.subscribeAsync("wss/t");
      const got = new Promise<string>((r) => client.once("message", (_t, p) => r(p.toString())));
      await client.publishAsync("wss/t", "over tls", { qos: 1 });
      assert.equal(await got, "over tls");
    } finally {
      await client.endAsync();
    }
    const ws = new WebSocket(`wss://localhost:${port}/stomp`, ["v12.stomp"], { ca: cert });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send("CONNECT\naccept-version:1.2\nhost:localhost\n\n\0"));
      ws.once("message", (d) => resolve(d.toString()));
      ws.once("error", reject);
    });
    ws.close();
    assert.match(first, /^CONNECTED\n/);
  } finally {
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});
