import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { request } from "node:http";
import { test } from "node:test";
import { type RawData, WebSocket } from "ws";
import { createHttpServer, type HttpServerOptions } from "../../src/transports/http.js";
import type { ByteStream, Listener, TransportInfo } from "../../src/transports/types.js";
import { delay, hasOpenssl, selfSignedCert, within } from "./helpers.js";

const MQTT = ["mqtt", "mqttv3.1"];
type Handler = (stream: ByteStream, info: TransportInfo, protocol: string) => void;

function echo(stream: ByteStream): void {
  stream.on("data", (chunk) => stream.write(chunk));
}

/** A server with `handler` on /mqtt, run for the duration of `body`, always closed. */
async function withServer(
  handler: Handler,
  body: (port: number) => Promise<void>,
  extra: Partial<HttpServerOptions> = {},
): Promise<void> {
  const http = createHttpServer({ host: "127.0.0.1", port: 0, ...extra });
  http.addWebSocketEndpoint("/mqtt", MQTT, handler);
  http.addRoute("GET", "/health", (_req, res) => res.end("ok"));
  const listener: Listener = await http.listen();
  try {
    await body(listener.port);
  } finally {
    await within(listener.close(), 2000, "close");
  }
}

async function open(url: string, protocols?: string[], ca?: Buffer): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, ca ? { ca } : {});
  await within(once(ws, "open"), 3000, "ws open");
  return ws;
}

/** The HTTP status with which the server refuses a WebSocket handshake. */
async function refusedWith(url: string, protocols?: string[]): Promise<number> {
  const ws = new WebSocket(url, protocols);
  ws.on("error", () => {});
  const [, res] = (await within(once(ws, "unexpected-response"), 2000, "refusal")) as [
    unknown,
    IncomingMessage,
  ];
  res.resume();
  ws.terminate();
  return res.statusCode ?? 0;
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return within(
    once(ws, "message").then(([data]) => data as Buffer),
    2000,
    "message",
  );
}

async function httpGet(
  port: number,
  path: string,
  method = "GET",
): Promise<{ status: number; body: string }> {
  const req = request({ host: "127.0.0.1", port, path, method });
  req.end();
  const [res] = (await within(once(req, "response"), 2000, "response")) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
}

test("ws: binary frames round-trip; text frames arrive as bytes; connection info", {
  timeout: 5000,
}, async () => {
  let info: TransportInfo | undefined;
  await withServer(
    (stream, i) => {
      info = i;
      echo(stream);
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      const frames = [Buffer.from([0x10, 0x0c, 0x00]), Buffer.alloc(70_000, 0xab), Buffer.from([0xe0, 0x00])];
      for (const frame of frames) {
        const reply = nextMessage(ws);
        ws.send(frame);
        assert.deepEqual(await reply, frame);
      }
      const reply = nextMessage(ws);
      ws.send("text");
      assert.deepEqual(await reply, Buffer.from("text"));
      assert.deepEqual(info, {
        kind: "ws",
        secure: false,
        remoteAddress: "127.0.0.1",
        remotePort: info?.remotePort,
      });
      assert.ok((info?.remotePort ?? 0) > 0);
      ws.close();
    },
  );
});

test("ws: the first offered subprotocol the endpoint supports is chosen (RFC 6455 §4.2.2)", {
  timeout: 5000,
}, async () => {
  let chosen = "";
  await withServer(
    (stream, _info, protocol) => {
      chosen = protocol;
      echo(stream);
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`, ["x-unknown", "mqtt", "mqttv3.1"]);
      assert.equal(ws.protocol, "mqtt");
      assert.equal(chosen, "mqtt");
      ws.close();
      const old = await open(`ws://127.0.0.1:${port}/mqtt`, ["mqttv3.1", "mqtt"]);
      assert.equal(old.protocol, "mqttv3.1");
      old.close();
    },
  );
});

test("ws: an offer of unsupported subprotocols only is refused with 400", { timeout: 5000 }, async () => {
  let connections = 0;
  await withServer(
    () => connections++,
    async (port) => {
      assert.equal(await refusedWith(`ws://127.0.0.1:${port}/mqtt`, ["stomp", "wamp.2.json"]), 400);
      assert.equal(connections, 0);
    },
  );
});

test("ws: a client offering no subprotocol is accepted (lenient), protocol is empty", {
  timeout: 5000,
}, async () => {
  let chosen: string | undefined;
  await withServer(
    (stream, _info, protocol) => {
      chosen = protocol;
      echo(stream);
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`);
      assert.equal(ws.protocol, "");
      assert.equal(chosen, "");
      ws.close();
    },
  );
});

test("http: unknown path is 404 on upgrade and on GET; routes, 405 and 426", { timeout: 5000 }, async () => {
  await withServer(echo, async (port) => {
    assert.equal(await refusedWith(`ws://127.0.0.1:${port}/nope`, ["mqtt"]), 404);
    assert.equal((await httpGet(port, "/nope")).status, 404);
    assert.deepEqual(await httpGet(port, "/health?x=1"), { status: 200, body: "ok" });
    assert.equal((await httpGet(port, "/health", "POST")).status, 405);
    assert.equal((await httpGet(port, "/mqtt")).status, 426);
  });
});

test("ws: writes corked within one tick are sent as one frame", { timeout: 5000 }, async () => {
  await withServer(
    (stream) => {
      stream.on("data", () => {
        stream.cork();
        stream.write(Buffer.from([1, 2]));
        stream.write(Buffer.from([3]));
        stream.write(Buffer.from([4, 5, 6]));
        process.nextTick(() => stream.uncork());
      });
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      const messages: Buffer[] = [];
      ws.on("message", (data: RawData) => messages.push(data as Buffer));
      ws.send(Buffer.from([0]));
      await within(
        (async () => {
          while (messages.length === 0) await delay(5);
        })(),
        2000,
        "frame",
      );
      await delay(50); // any second frame would have arrived by now
      assert.equal(messages.length, 1);
      assert.deepEqual(messages[0], Buffer.from([1, 2, 3, 4, 5, 6]));
      ws.close();
    },
  );
});

test("ws: write() reports backpressure, 'drain' follows, bytes arrive in order", {
  timeout: 5000,
}, async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 0x5a);
  let accepted: boolean | undefined;
  let drained: Promise<unknown> | undefined;
  let queued = 0;
  await withServer(
    (stream) => {
      accepted = stream.write(big);
      queued = stream.writableLength;
      drained = within(once(stream as unknown as NodeJS.EventEmitter, "drain"), 3000, "drain");
    },
    async (port) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      const data = await within(once(ws, "message"), 3000, "big message");
      assert.equal(accepted, false);
      assert.ok(queued > 0);
      await drained;
      assert.deepEqual(data[0], big);
      ws.close();
    },
  );
});

test("ws: nothing is read before a 'data' listener; pause() holds data until resume()", {
  timeout: 5000,
}, async () => {
  const received: Buffer[] = [];
  let server: ByteStream | undefined;
  await withServer(
    (stream) => {
      server = stream;
      setTimeout(() => {
        stream.on("data", (chunk) => received.push(chunk));
        stream.pause();
        stream.resume();
      }, 50);
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      ws.send(Buffer.from("early"));
      await delay(100);
      assert.deepEqual(received, [Buffer.from("early")]);
      server!.pause();
      ws.send(Buffer.from("later"));
      await delay(50);
      assert.equal(received.length, 1);
      server!.resume();
      await delay(50);
      assert.deepEqual(received[1], Buffer.from("later"));
      ws.close();
    },
  );
});

test("ws: end() flushes pending writes then closes with 1000", { timeout: 5000 }, async () => {
  await withServer(
    (stream) => {
      stream.cork();
      stream.write(Buffer.from("bye"));
      stream.end();
    },
    async (port) => {
      // Listen before 'open': the frame and the close may arrive with the handshake response.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      const messages: Buffer[] = [];
      ws.on("message", (data: RawData) => messages.push(data as Buffer));
      const [code] = await within(once(ws, "close"), 2000, "close");
      assert.equal(code, 1000);
      assert.deepEqual(messages, [Buffer.from("bye")]);
    },
  );
});

test("ws: a message over maxPayload closes the connection with 1009", { timeout: 5000 }, async () => {
  let closed = false;
  await withServer(
    (stream) => {
      echo(stream);
      stream.on("close", () => {
        closed = true;
      });
    },
    async (port) => {
      const ws = await open(`ws://127.0.0.1:${port}/mqtt`, ["mqtt"]);
      ws.send(Buffer.alloc(2048));
      const [code] = await within(once(ws, "close"), 2000, "close");
      assert.equal(code, 1009);
      await delay(20);
      assert.equal(closed, true);
    },
    { maxPayload: 1024 },
  );
});

test("ws: close() resolves promptly with open connections", { timeout: 5000 }, async () => {
  const http = createHttpServer({ host: "127.0.0.1", port: 0 });
  const serverClosed: Promise<unknown>[] = [];
  http.addWebSocketEndpoint("/mqtt", MQTT, (stream) => {
    serverClosed.push(new Promise<void>((resolve) => stream.on("close", resolve)));
    echo(stream);
  });
  const listener = await http.listen();
  const clients = await Promise.all([1, 2].map(() => open(`ws://127.0.0.1:${listener.port}/mqtt`, ["mqtt"])));
  const clientClosed = clients.map((ws) => once(ws, "close"));
  await within(listener.close(), 1000, "close");
  await within(Promise.all([...clientClosed, ...serverClosed]), 1000, "connections closed");
});

// CI must run every test: there a missing openssl is a failure, not a skip.
const skip = hasOpenssl() || process.env.CI === "true" ? false : "openssl command not found";

test("wss: echo over TLS, connection info", { timeout: 10_000, skip }, async () => {
  const creds = selfSignedCert();
  let info: TransportInfo | undefined;
  await withServer(
    (stream, i) => {
      info = i;
      echo(stream);
    },
    async (port) => {
      const ws = await open(`wss://localhost:${port}/mqtt`, ["mqtt"], creds.cert);
      const reply = nextMessage(ws);
      ws.send(Buffer.from([0xc0, 0x00]));
      assert.deepEqual(await reply, Buffer.from([0xc0, 0x00]));
      assert.equal(info?.kind, "wss");
      assert.equal(info?.secure, true);
      const closed = once(ws, "close");
      ws.close();
      await within(closed, 2000, "close");
    },
    { tls: creds },
  );
});
