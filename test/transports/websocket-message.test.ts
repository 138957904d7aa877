/**
 * The message-oriented WebSocket endpoint (addWebSocketMessageEndpoint, WAMP's /ws) on the project's
 * own RFC 6455 server side (src/transports/websocket/), over real sockets: hand-built frames on a
 * raw TCP connection, and the `ws` package as a client. Handshake answers and refusals, every length
 * form, streams split at every byte, fragmentation with a ping inside, ping/pong, both closing
 * handshakes, and each protocol error with its close code, after which the server serves on.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { WebSocket } from "ws";
import { createHttpServer } from "../../src/transports/http.js";
import { TickFrameWriter } from "../../src/transports/tick-frame-writer.js";
import type { TransportInfo } from "../../src/transports/types.js";
import { DATA_FRAME_HEADERS } from "../../src/transports/websocket/frames.js";
import { acceptValue } from "../../src/transports/websocket/handshake.js";
import { CLOSE_TIMEOUT_MS, type MessageSocket } from "../../src/transports/websocket/message-socket.js";
import { delay, hasOpenssl, selfSignedCert, within } from "./helpers.js";
import { clientFrame, closePayload, readServerFrames, type ServerFrame } from "./websocket-frames.js";

const PROTOCOLS = ["x.one", "x.two"];
const LIMIT = 100_000;

interface Served {
  ws: MessageSocket;
  info: TransportInfo;
  protocol: string;
  messages: Array<{ data: Buffer; binary: boolean }>;
  closes: number;
  closed: Promise<void>;
}

interface Server {
  port: number;
  served: Served[];
}

/**
 * A server with an echo handler on /ws: each message comes back in a frame of the same kind;
 * "close-me" makes the server close with 4000 "bye"; "terminate-me" destroys the connection.
 */
async function withServer(
  body: (s: Server) => Promise<void>,
  tls?: { cert: Buffer; key: Buffer },
): Promise<void> {
  const http = createHttpServer({ host: "127.0.0.1", port: 0, tls });
  const served: Served[] = [];
  http.addWebSocketMessageEndpoint(
    "/ws",
    PROTOCOLS,
    (ws, info, protocol) => {
      let closed: () => void = () => {};
      const s: Served = {
        ws,
        info,
        protocol,
        messages: [],
        closes: 0,
        closed: new Promise((r) => {
          closed = r;
        }),
      };
      served.push(s);
      // Echoes go out as WAMP's do: through a tick frame writer onto ws.write().
      const out = new TickFrameWriter((chunk) => ws.write(chunk), DATA_FRAME_HEADERS);
      ws.start({
        message(data, binary) {
          s.messages.push({ data: Buffer.from(data), binary });
          const text = data.toString();
          if (text === "close-me") ws.close(4000, "bye");
          else if (text === "terminate-me") ws.terminate();
          else out.write(binary ? 0x82 : 0x81, data);
        },
        close() {
          s.closes++;
          closed();
        },
      });
    },
    LIMIT,
  );
  // A handler that closes without ever calling start(), as the WAMP adapter does for an unknown subprotocol.
  http.addWebSocketMessageEndpoint("/refuse", PROTOCOLS, (ws) => ws.close(1002, "not for you"), LIMIT);
  const listener = await http.listen();
  try {
    await body({ port: listener.port, served });
  } finally {
    await within(listener.close(), 2000, "close");
  }
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function upgradeRequest(
  headers: Record<string, string | undefined> = {},
  method = "GET",
  path = "/ws",
): string {
  const all: Record<string, string | undefined> = {
    Host: "localhost",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "x.two, x.one",
    ...headers,
  };
  let req = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(all)) if (value !== undefined) req += `${name}: ${value}\r\n`;
  return `${req}\r\n`;
}

/** A raw TCP client: sends bytes, reads the HTTP answer, then server frames. */
class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly frames: ServerFrame[] = [];
  private waiting: (() => void) | undefined;
  status = 0;
  responseHead = "";
  readonly ended: Promise<void>;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("error", () => {});
    this.ended = new Promise((r) => socket.once("end", () => r()));
    this.closed = new Promise((r) => socket.once("close", () => r()));
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      if (this.status === 0) {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        this.responseHead = this.buf.subarray(0, end).toString();
        this.status = Number(this.responseHead.split(" ")[1]);
        this.buf = this.buf.subarray(end + 4);
      }
      const { frames, rest } = readServerFrames(this.buf);
      this.frames.push(...frames);
      this.buf = rest;
      this.waiting?.();
    });
    socket.on("close", () => this.waiting?.());
  }

  /** Connects and sends `first` (a handshake, maybe followed by frames); resolves once the answer's head is in. */
  static async open(port: number, first: string | Buffer = upgradeRequest()): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await within(once(socket, "connect"), 2000, "connect");
    const c = new RawClient(socket);
    socket.write(first);
    await c.until(() => c.status !== 0 || socket.destroyed, "handshake answer");
    return c;
  }

  header(name: string): string | undefined {
    for (const line of this.responseHead.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (line.slice(0, colon).toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
    }
    return undefined;
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  async until(done: () => boolean, what: string, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${what}: timed out`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 50);
      });
    }
  }

  async nextFrame(what = "frame"): Promise<ServerFrame> {
    await this.until(() => this.frames.length > 0, what);
    return this.frames.shift()!;
  }

  /** Every frame received so far and not read. */
  pending(): ServerFrame[] {
    return this.frames.splice(0);
  }
}

/** Expects a close frame with `code`, then the server closing the TCP connection. */
async function expectClose(c: RawClient, code: number | undefined): Promise<ServerFrame> {
  const f = await c.nextFrame("close frame");
  assert.equal(f.opcode, 8, `a close frame, not opcode ${f.opcode}`);
  assert.equal(f.masked, false);
  assert.equal(f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined, code);
  await within(c.ended, 2000, "server end");
  return f;
}

/** The server still answers a new connection. */
async function assertServing(port: number): Promise<void> {
  const c = await RawClient.open(port);
  assert.equal(c.status, 101);
  c.send(clientFrame(1, "still here"));
  const f = await c.nextFrame("echo");
  assert.equal(f.payload.toString(), "still here");
  c.socket.destroy();
}

test("handshake: 101 with the accept value of RFC 6455 §1.3 and the first offered supported subprotocol", {
  timeout: 5000,
}, async () => {
  assert.equal(acceptValue(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(
      port,
      upgradeRequest({
        Connection: "keep-alive, UPGRADE",
        Upgrade: "WebSocket",
        "Sec-WebSocket-Protocol": "nope, x.two, x.one",
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
      }),
    );
    assert.equal(c.status, 101);
    assert.equal(c.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert.equal(c.header("sec-websocket-protocol"), "x.two");
    assert.equal(c.header("upgrade")?.toLowerCase(), "websocket");
    assert.equal(c.header("sec-websocket-extensions"), undefined, "no extension negotiated");
    await c.until(() => served.length === 1, "handler");
    assert.equal(served[0]!.protocol, "x.two");
    assert.equal(served[0]!.ws.protocol, "x.two");
    assert.equal(served[0]!.info.kind, "ws");
    assert.equal(served[0]!.info.remoteAddress, "127.0.0.1");
    c.socket.destroy();
    await within(served[0]!.closed, 2000, "server close");
  });
});

test("handshake refusals: 426 for another version, 400 for a bad key, no or unsupported subprotocol, 405, 404", {
  timeout: 10_000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const refused = async (request: string): Promise<RawClient> => {
      const c = await RawClient.open(port, request);
      await within(c.closed, 2000, "refusal close");
      return c;
    };
    const v8 = await refused(upgradeRequest({ "Sec-WebSocket-Version": "8" }));
    assert.equal(v8.status, 426);
    assert.equal(v8.header("sec-websocket-version"), "13");
    assert.equal((await refused(upgradeRequest({ "Sec-WebSocket-Version": undefined }))).status, 426);
    for (const key of [
      undefined,
      "",
      "abc",
      "dGhlIHNhbXBsZSBub25jZQ",
      "dGhlIHNhbXBsZSBub25jZXg=",
      "dGhlIHNhbXBsZSBub25jZ!==",
    ]) {
      assert.equal((await refused(upgradeRequest({ "Sec-WebSocket-Key": key }))).status, 400, `key ${key}`);
    }
    assert.equal((await refused(upgradeRequest({ "Sec-WebSocket-Protocol": undefined }))).status, 400);
    assert.equal((await refused(upgradeRequest({ "Sec-WebSocket-Protocol": "x.three, mqtt" }))).status, 400);
    assert.equal((await refused(upgradeRequest({ Upgrade: "h2c" }))).status, 400);
    assert.equal((await refused(upgradeRequest({}, "POST"))).status, 405);
    assert.equal((await refused(upgradeRequest({}, "GET", "/elsewhere"))).status, 404);
    assert.equal(served.length, 0);
    await assertServing(port);
  });
});

test("masked text and binary messages in every length form come back whole (7-bit, 16-bit, 64-bit)", {
  timeout: 10_000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      const text = "€".repeat(Math.floor(n / 3)) + "t".repeat(n % 3);
      const bin = Buffer.alloc(n, n & 0xff);
      c.send(clientFrame(1, text), clientFrame(2, bin, { mask: Buffer.alloc(4) }));
      const t = await c.nextFrame(`text ${n}`);
      assert.deepEqual([t.opcode, t.fin, t.rsv, t.masked], [1, true, 0, false]);
      assert.equal(t.payload.toString(), text);
      const b = await c.nextFrame(`binary ${n}`);
      assert.deepEqual([b.opcode, b.fin], [2, true]);
      assert.ok(b.payload.equals(bin), `binary ${n}`);
    }
    assert.equal(served[0]!.messages.length, 16);
    c.socket.destroy();
  });
});

test("the frames that come with the upgrade request (the `head`) are decoded first", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port }) => {
    const first = Buffer.concat([
      Buffer.from(upgradeRequest()),
      clientFrame(1, "in the head"),
      clientFrame(2, "too"),
    ]);
    const c = await RawClient.open(port, first);
    assert.equal(c.status, 101);
    assert.equal((await c.nextFrame()).payload.toString(), "in the head");
    assert.equal((await c.nextFrame()).payload.toString(), "too");
    c.socket.destroy();
  });
});

test("a stream written one byte at a time gives the same messages", { timeout: 10_000 }, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    c.socket.setNoDelay(true);
    const stream = Buffer.concat([
      clientFrame(1, "héllo ", { fin: false }),
      clientFrame(9, "ping"),
      clientFrame(0, "wörld"),
      clientFrame(2, Buffer.alloc(200, 3)),
      clientFrame(2, "long form", { lengthForm: 64 }),
    ]);
    for (let i = 0; i < stream.length; i++) {
      c.socket.write(stream.subarray(i, i + 1));
      if (i % 16 === 0) await delay(1);
    }
    await c.until(() => served[0]?.messages.length === 3, "messages");
    assert.deepEqual(
      served[0]!.messages.map((m) => [m.binary, m.data.toString("hex")]),
      [
        [false, Buffer.from("héllo wörld").toString("hex")],
        [true, Buffer.alloc(200, 3).toString("hex")],
        [true, Buffer.from("long form").toString("hex")],
      ],
    );
    c.socket.destroy();
  });
});

test("fragmented message with a ping in between: pong first, then the whole message", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.open(port);
    c.send(clientFrame(2, "ab", { fin: false }));
    await delay(20);
    c.send(clientFrame(9, "are you there"), clientFrame(0, "cd", { fin: false }));
    await delay(20);
    c.send(clientFrame(0, "ef"));
    const pong = await c.nextFrame("pong");
    assert.deepEqual([pong.opcode, pong.payload.toString()], [10, "are you there"]);
    const m = await c.nextFrame("message");
    assert.deepEqual([m.opcode, m.payload.toString()], [2, "abcdef"]);
    c.socket.destroy();
  });
});

test("ping → pong with the same payload (empty, 125 bytes); an unsolicited pong is ignored", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.open(port);
    const big = Buffer.alloc(125, 9);
    c.send(clientFrame(10, "unsolicited"), clientFrame(9, ""), clientFrame(9, big), clientFrame(1, "after"));
    const p1 = await c.nextFrame();
    assert.deepEqual([p1.opcode, p1.payload.length], [10, 0]);
    const p2 = await c.nextFrame();
    assert.equal(p2.opcode, 10);
    assert.ok(p2.payload.equals(big));
    assert.equal((await c.nextFrame()).payload.toString(), "after");
    c.socket.destroy();
  });
});

test("client-initiated close: the code is echoed (none for none), the server ends the connection, close once", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    c.send(clientFrame(8, closePayload(4321, "done here")), clientFrame(1, "after the close"));
    const f = await expectClose(c, 4321);
    assert.equal(f.payload.length, 2, "the code only");
    c.socket.end();
    await within(served[0]!.closed, 2000, "server close");
    assert.equal(served[0]!.messages.length, 0, "nothing after a close frame");
    assert.deepEqual(c.pending(), [], "nothing written after the close frame");

    const e = await RawClient.open(port);
    e.send(clientFrame(8));
    await expectClose(e, undefined);
    e.socket.end();
    await within(served[1]!.closed, 2000, "server close");
    await delay(20);
    assert.deepEqual(
      served.map((s) => s.closes),
      [1, 1],
    );
  });
});

test("server-initiated close: close frame with code and reason, no message delivered after, TCP closed on the answer", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    c.send(clientFrame(1, "close-me"));
    const f = await c.nextFrame("close frame");
    assert.equal(f.opcode, 8);
    assert.equal(f.payload.readUInt16BE(0), 4000);
    assert.equal(f.payload.subarray(2).toString(), "bye");
    c.send(clientFrame(1, "too late"), clientFrame(9, "ping too late"));
    await delay(50);
    assert.deepEqual(c.pending(), [], "no echo, no pong after the close frame");
    assert.equal(served[0]!.messages.length, 1);
    c.send(clientFrame(8, closePayload(4000)));
    await within(c.ended, 2000, "server end");
    c.socket.end();
    await within(served[0]!.closed, 2000, "server close");
    assert.equal(served[0]!.closes, 1);
  });
});

test("closed before start(): the close frame goes out and the client's answer is still read", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.open(port, upgradeRequest({}, "GET", "/refuse"));
    assert.equal(c.status, 101);
    const f = await c.nextFrame("close frame");
    assert.deepEqual(
      [f.opcode, f.payload.readUInt16BE(0), f.payload.subarray(2).toString()],
      [8, 1002, "not for you"],
    );
    c.send(clientFrame(8, closePayload(1002)));
    await within(c.ended, 2000, "server end after the client's close frame");
    c.socket.end();
    await within(c.closed, 2000, "closed");
  });
});

test("server-initiated close with a client that never answers: the socket is destroyed after the timeout", {
  timeout: CLOSE_TIMEOUT_MS + 5000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    c.send(clientFrame(1, "close-me"));
    assert.equal((await c.nextFrame()).opcode, 8);
    const started = Date.now();
    await within(c.closed, CLOSE_TIMEOUT_MS + 2000, "destroy after the close timeout");
    assert.ok(Date.now() - started >= CLOSE_TIMEOUT_MS - 500);
    await within(served[0]!.closed, 1000, "server close");
  });
});

test("the client ending TCP without a close frame, or terminate(): the server side closes, close once", {
  timeout: 5000,
}, async () => {
  await withServer(async ({ port, served }) => {
    const c = await RawClient.open(port);
    c.socket.end();
    await within(c.closed, 2000, "closed");
    const t = await RawClient.open(port);
    t.send(clientFrame(1, "terminate-me"));
    await within(t.closed, 2000, "terminated");
    await within(Promise.all(served.map((s) => s.closed)), 2000, "server close");
    await delay(20);
    assert.deepEqual(
      served.map((s) => s.closes),
      [1, 1],
    );
  });
});

test("protocol errors: a close frame with the code, the connection ends, the server serves on", {
  timeout: 20_000,
}, async () => {
  const cases: Array<[string, Buffer[], number]> = [
    ["an unmasked frame", [clientFrame(1, "plain", { mask: null })], 1002],
    ["an RSV bit", [clientFrame(1, "x", { rsv: 4 })], 1002],
    ["an unknown data opcode", [clientFrame(3, "x")], 1002],
    ["an unknown control opcode", [clientFrame(0xf, "x")], 1002],
    ["a ping over 125 bytes", [clientFrame(9, Buffer.alloc(126))], 1002],
    ["a fragmented ping", [clientFrame(9, "x", { fin: false })], 1002],
    ["a continuation with nothing to continue", [clientFrame(0, "x")], 1002],
    [
      "a new data frame inside a fragmented message",
      [clientFrame(1, "a", { fin: false }), clientFrame(2, "b")],
      1002,
    ],
    ["a 64-bit length with the top bit set", [clientFrame(2, "", { high: 0x80000000, length: 0 })], 1002],
    ["a message over the limit", [clientFrame(2, "", { length: LIMIT + 1 })], 1009],
    [
      "a fragmented message over the limit",
      [
        clientFrame(1, Buffer.alloc(LIMIT - 10, 0x61), { fin: false }),
        clientFrame(0, Buffer.alloc(11, 0x61)),
      ],
      1009,
    ],
    ["invalid UTF-8 in a text message", [clientFrame(1, Buffer.from([0xff, 0xfe]))], 1007],
    ["close code 1005", [clientFrame(8, closePayload(1005))], 1002],
    ["close code 999", [clientFrame(8, closePayload(999))], 1002],
    ["close code 2000", [clientFrame(8, closePayload(2000))], 1002],
    ["a close payload of 1 byte", [clientFrame(8, Buffer.from([3]))], 1002],
    ["a close reason that is not UTF-8", [clientFrame(8, Buffer.from([0x03, 0xe8, 0xc3]))], 1007],
  ];
  await withServer(async ({ port, served }) => {
    for (const [name, frames, code] of cases) {
      const c = await RawClient.open(port);
      c.send(...frames, clientFrame(1, "after the error"));
      await expectClose(c, code).catch((err: Error) => assert.fail(`${name}: ${err.message}`));
      assert.deepEqual(c.pending(), [], `${name}: nothing after the close frame`);
      c.socket.end();
      const s = served.at(-1)!;
      await within(s.closed, 2000, `${name}: server close`);
      assert.equal(s.messages.length, 0, `${name}: no message delivered`);
      assert.equal(s.closes, 1);
    }
    await assertServing(port);
  });
});

test("the ws package as a client: text and binary echo, ping/pong, close codes both ways, deflate offer declined", {
  timeout: 10_000,
}, async () => {
  await withServer(async ({ port }) => {
    // ws offers permessage-deflate by default: the server does not answer it, so frames are plain.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ["x.one"]);
    await within(once(ws, "open"), 2000, "open");
    assert.equal(ws.protocol, "x.one");
    assert.equal(ws.extensions, "");
    const next = (): Promise<[Buffer, boolean]> =>
      within(once(ws, "message") as Promise<[Buffer, boolean]>, 2000, "message");
    let reply = next();
    ws.send("text ✓");
    let [data, binary] = await reply;
    assert.deepEqual([data.toString(), binary], ["text ✓", false]);
    reply = next();
    ws.send(Buffer.alloc(70_000, 1));
    [data, binary] = await reply;
    assert.deepEqual([data.length, binary], [70_000, true]);
    const pong = within(once(ws, "pong"), 2000, "pong");
    ws.ping("hi");
    assert.equal(String((await pong)[0]), "hi");
    const closed = within(once(ws, "close"), 2000, "close");
    ws.close(4100, "client done");
    const [code] = (await closed) as [number, Buffer];
    assert.equal(code, 4100);

    const ws2 = new WebSocket(`ws://127.0.0.1:${port}/ws`, ["x.two"]);
    await within(once(ws2, "open"), 2000, "open");
    const closed2 = within(once(ws2, "close"), 3000, "close");
    ws2.send("close-me");
    const [code2, reason2] = (await closed2) as [number, Buffer];
    assert.deepEqual([code2, reason2.toString()], [4000, "bye"]);

    const ws3 = new WebSocket(`ws://127.0.0.1:${port}/ws`, ["x.one"], { maxPayload: 0 });
    await within(once(ws3, "open"), 2000, "open");
    const closed3 = within(once(ws3, "close"), 3000, "close");
    ws3.send(Buffer.alloc(LIMIT + 1));
    assert.equal(((await closed3) as [number])[0], 1009);
  });
});

test("wss: the same endpoint over TLS", {
  timeout: 20_000,
  skip: !hasOpenssl() && "no openssl",
}, async () => {
  const tls = selfSignedCert();
  await withServer(async ({ port, served }) => {
    const ws = new WebSocket(`wss://localhost:${port}/ws`, ["x.two"], { ca: tls.cert });
    await within(once(ws, "open"), 5000, "open");
    const reply = within(once(ws, "message"), 2000, "message");
    ws.send("over tls");
    assert.equal(String(((await reply) as [Buffer])[0]), "over tls");
    assert.equal(served[0]!.info.kind, "wss");
    assert.equal(served[0]!.info.secure, true);
    const closed = within(once(ws, "close"), 2000, "close");
    ws.close(1000);
    assert.equal(((await closed) as [number])[0], 1000);
  }, tls);
});
