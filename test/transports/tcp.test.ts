import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { listenTcp } from "../../src/transports/tcp.js";
import type { ByteStream, TransportInfo } from "../../src/transports/types.js";
import { closeOf, within } from "./helpers.js";

function echo(stream: ByteStream): void {
  stream.on("data", (chunk) => stream.write(chunk));
}

async function connectTo(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await within(once(socket, "connect"), 2000, "connect");
  return socket;
}

test("tcp: echo round-trip, real port reported for port 0, connection info", { timeout: 5000 }, async () => {
  let info: TransportInfo | undefined;
  const listener = await listenTcp({ host: "127.0.0.1", port: 0 }, (stream, i) => {
    info = i;
    echo(stream);
  });
  try {
    assert.ok(listener.port > 0);
    const client = await connectTo(listener.port);
    const received: Buffer[] = [];
    let total = 0;
    const payload = Buffer.from("hello switchboard");
    const done = new Promise<void>((resolve) => {
      client.on("data", (chunk: Buffer) => {
        received.push(chunk);
        total += chunk.length;
        if (total >= payload.length) resolve();
      });
    });
    client.write(payload);
    await within(done, 2000, "echo");
    assert.deepEqual(Buffer.concat(received), payload);
    assert.equal(info?.kind, "tcp");
    assert.equal(info?.secure, false);
    assert.equal(info?.remoteAddress, "127.0.0.1");
    assert.equal(info?.remotePort, client.localPort);
    client.destroy();
  } finally {
    await within(listener.close(), 2000, "close");
  }
});

test("tcp: close() resolves promptly with open connections and closes them", { timeout: 5000 }, async () => {
  const listener = await listenTcp({ host: "127.0.0.1", port: 0 }, echo);
  const clients = await Promise.all([connectTo(listener.port), connectTo(listener.port)]);
  for (const c of clients) c.on("error", () => {});
  const closed = clients.map((c) => closeOf(c));
  await within(listener.close(), 1000, "close");
  await within(Promise.all(closed), 1000, "clients closed");
});

test("tcp: listen on a busy port rejects", { timeout: 5000 }, async () => {
  const first = await listenTcp({ host: "127.0.0.1", port: 0 }, echo);
  try {
    await assert.rejects(listenTcp({ host: "127.0.0.1", port: first.port }, echo), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});
