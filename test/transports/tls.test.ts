import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { connect, type TLSSocket } from "node:tls";
import { listenTls } from "../../src/transports/tls.js";
import type { ByteStream, TransportInfo } from "../../src/transports/types.js";
import { closeOf, hasOpenssl, selfSignedCert, within } from "./helpers.js";

// CI must run every test: there a missing openssl is a failure, not a skip.
const skip = hasOpenssl() || process.env.CI === "true" ? false : "openssl command not found";
const creds = skip ? { cert: Buffer.alloc(0), key: Buffer.alloc(0) } : selfSignedCert();

function echo(stream: ByteStream): void {
  stream.on("data", (chunk) => stream.write(chunk));
}

async function connectTo(port: number): Promise<TLSSocket> {
  // The client verifies the server's self-signed certificate against itself as CA.
  const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: creds.cert });
  await within(once(socket, "secureConnect"), 3000, "TLS handshake");
  return socket;
}

test("tls: echo over a verified TLS connection, connection info", { timeout: 10_000, skip }, async () => {
  let info: TransportInfo | undefined;
  const listener = await listenTls({ host: "127.0.0.1", port: 0, ...creds }, (stream, i) => {
    info = i;
    echo(stream);
  });
  try {
    assert.ok(listener.port > 0);
    const client = await connectTo(listener.port);
    assert.equal(client.authorized, true);
    const payload = Buffer.alloc(100_000, 7);
    const chunks: Buffer[] = [];
    let total = 0;
    const done = new Promise<void>((resolve) => {
      client.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.length;
        if (total >= payload.length) resolve();
      });
    });
    client.write(payload);
    await within(done, 3000, "echo");
    assert.deepEqual(Buffer.concat(chunks), payload);
    assert.deepEqual(info, {
      kind: "tls",
      secure: true,
      remoteAddress: "127.0.0.1",
      remotePort: client.localPort,
    });
    client.destroy();
  } finally {
    await within(listener.close(), 2000, "close");
  }
});

test("tls: close() resolves promptly with open connections", { timeout: 10_000, skip }, async () => {
  const listener = await listenTls({ host: "127.0.0.1", port: 0, ...creds }, echo);
  const client = await connectTo(listener.port);
  client.on("error", () => {});
  const closed = closeOf(client);
  await within(listener.close(), 1000, "close");
  await within(closed, 1000, "client closed");
});
