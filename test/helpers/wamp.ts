/**
 * WAMP test helpers: autobahn over every transport and serializer (WebSocket with JSON, MessagePack
 * and CBOR; RawSocket with the same three), and a raw client that sends hand-made messages and reads
 * exactly what the router answers.
 *
 * autobahn's own RawSocket transport speaks JSON only, so `rawsocket-any` below is a small autobahn
 * transport of ours that runs the RawSocket handshake and framing with autobahn's own serializers;
 * everything above the framing is autobahn's.
 */
import { connect as netConnect, type Socket } from "node:net";
import autobahn from "autobahn";
import WebSocket from "ws";
import {
  cborSerializer,
  jsonSerializer,
  msgpackSerializer,
  type Serializer,
} from "../../src/protocols/wamp/codec/serializers.js";
import type { TestBroker } from "./broker.js";

const RAW_CODES: Record<string, number> = { json: 1, msgpack: 2, cbor: 3 };

// biome-ignore lint/suspicious/noExplicitAny: autobahn's transport objects are untyped
type Any = any;

/** An autobahn transport factory: RawSocket with any of autobahn's serializers. */
function RawSocketAnyFactory(this: Any, options: Any): void {
  this._options = options;
}
RawSocketAnyFactory.prototype.type = "rawsocket-any";
RawSocketAnyFactory.prototype.create = function create(this: Any): Any {
  const serializer = this._options.serializer;
  const transport: Any = {
    protocol: `wamp.2.${serializer.SERIALIZER_ID}`,
    serializer,
    info: { type: "rawsocket", url: null, protocol: `wamp.2.${serializer.SERIALIZER_ID}` },
    onmessage: () => {},
    onopen: () => {},
    onclose: () => {},
  };
  const socket: Socket = netConnect({ host: this._options.host, port: this._options.port });
  let buf = Buffer.alloc(0);
  let open = false;
  socket.on("connect", () =>
    socket.write(Buffer.from([0x7f, 0xf0 | RAW_CODES[serializer.SERIALIZER_ID]!, 0, 0])),
  );
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (!open) {
      if (buf.length < 4) return;
      if ((buf[1]! & 0x0f) === 0) {
        socket.destroy();
        return;
      }
      buf = buf.subarray(4);
      open = true;
      transport.onopen();
    }
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0) & 0xffffff;
      if (buf.length < 4 + len) break;
      const type = buf[0];
      const payload = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (type === 0) {
        const data = serializer.BINARY ? payload : payload.toString("utf8");
        transport.onmessage(serializer.unserialize(data));
      }
    }
  });
  socket.on("close", () => transport.onclose({ code: 999, reason: "", wasClean: true }));
  socket.on("error", () => {});
  transport.send = async (msg: unknown) => {
    const p = await serializer.serialize(msg);
    const bytes = Buffer.from(p);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(bytes.length);
    socket.write(Buffer.concat([h, bytes]));
  };
  transport.close = () => socket.end();
  return transport;
};
autobahn.transports.register("rawsocket-any", RawSocketAnyFactory);

export interface ClientVariant {
  name: string;
  transport: "websocket" | "rawsocket";
  serializer: "json" | "msgpack" | "cbor";
}

export const VARIANTS: readonly ClientVariant[] = [
  { name: "WebSocket/JSON", transport: "websocket", serializer: "json" },
  { name: "WebSocket/MessagePack", transport: "websocket", serializer: "msgpack" },
  { name: "WebSocket/CBOR", transport: "websocket", serializer: "cbor" },
  { name: "RawSocket/JSON", transport: "rawsocket", serializer: "json" },
  { name: "RawSocket/MessagePack", transport: "rawsocket", serializer: "msgpack" },
  { name: "RawSocket/CBOR", transport: "rawsocket", serializer: "cbor" },
];

function autobahnSerializer(name: string): Any {
  if (name === "msgpack") return new autobahn.serializer.MsgpackSerializer();
  if (name === "cbor") return new autobahn.serializer.CBORSerializer();
  return new autobahn.serializer.JSONSerializer();
}

export interface AutobahnClient {
  // biome-ignore lint/suspicious/noExplicitAny: autobahn.Session
  session: any;
  close(): Promise<void>;
  /** Resolves when the connection is closed, with autobahn's reason and details. */
  closed: Promise<{ reason: string; details: Any }>;
}

/** Joins `realm1` (or opts.realm) with autobahn over `v`; rejects with the close reason on failure. */
export function joinAutobahn(
  b: TestBroker,
  v: ClientVariant,
  opts: Record<string, unknown> = {},
): Promise<AutobahnClient> {
  const serializer = autobahnSerializer(v.serializer);
  const transports =
    v.transport === "websocket"
      ? [
          {
            type: "websocket",
            url: b.wampUrl,
            protocols: [`wamp.2.${v.serializer}`],
            serializers: [serializer],
          },
        ]
      : [{ type: "rawsocket-any", host: "127.0.0.1", port: b.wampPort, serializer }];
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection({ realm: "realm1", max_retries: 0, transports, ...opts });
    let resolveClosed: (r: { reason: string; details: Any }) => void = () => {};
    const closed = new Promise<{ reason: string; details: Any }>((r) => {
      resolveClosed = r;
    });
    let opened = false;
    conn.onopen = (session: Any) => {
      opened = true;
      resolve({
        session,
        closed,
        close: async () => {
          if (conn.isOpen) conn.close();
          await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
        },
      });
    };
    conn.onclose = (reason: string, details: Any) => {
      resolveClosed({ reason, details });
      if (!opened)
        reject(
          Object.assign(new Error(`${reason}: ${details?.reason ?? ""} ${details?.message ?? ""}`), {
            reason,
            details,
          }),
        );
      return true; // no reconnect
    };
    conn.open();
  });
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds. */
export async function until(cond: () => boolean, what = "condition", ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const SERIALIZERS: Record<string, Serializer> = {
  json: jsonSerializer,
  msgpack: msgpackSerializer,
  cbor: cborSerializer,
};

/** A bare WAMP client: sends the messages it is given, queues what the router sends. */
export class RawWamp {
  private readonly queue: unknown[][] = [];
  private readonly waiting: Array<(m: unknown[]) => void> = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  private sendBytes: (b: Buffer) => void = () => {};
  private closeFn: () => void = () => {};
  private markClosed: () => void = () => {};

  private constructor(readonly serializer: Serializer) {
    this.closedPromise = new Promise((r) => {
      this.markClosed = () => {
        this.closed = true;
        r();
      };
    });
  }

  static async ws(b: TestBroker, serializer = "json"): Promise<RawWamp> {
    const s = SERIALIZERS[serializer]!;
    const c = new RawWamp(s);
    const ws = new WebSocket(b.wampUrl, [s.subprotocol]);
    await new Promise<void>((res, rej) => {
      ws.once("open", () => res());
      ws.once("error", rej);
    });
    ws.on("message", (data: Buffer) => c.push(s.decode(data) as unknown[]));
    ws.on("close", () => c.markClosed());
    c.sendBytes = (bytes) => ws.send(bytes, { binary: s.binary });
    c.closeFn = () => ws.terminate();
    return c;
  }

  static async raw(b: TestBroker, serializer = "json", maxLenExp = 15): Promise<RawWamp> {
    const s = SERIALIZERS[serializer]!;
    const c = new RawWamp(s);
    const socket = netConnect({ host: "127.0.0.1", port: b.wampPort });
    await new Promise<void>((res, rej) => {
      socket.once("connect", () => res());
      socket.once("error", rej);
    });
    socket.write(Buffer.from([0x7f, ((maxLenExp - 9) << 4) | s.rawSocketCode, 0, 0]));
    let buf = Buffer.alloc(0);
    let handshake = false;
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!handshake) {
        if (buf.length < 4) return;
        handshake = true;
        buf = buf.subarray(4);
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0) & 0xffffff;
        if (buf.length < 4 + len) break;
        if (buf[0] === 0) c.push(s.decode(buf.subarray(4, 4 + len)) as unknown[]);
        buf = buf.subarray(4 + len);
      }
    });
    socket.on("close", () => c.markClosed());
    socket.on("error", () => {});
    c.sendBytes = (bytes) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(bytes.length);
      socket.write(Buffer.concat([h, bytes]));
    };
    c.closeFn = () => socket.destroy();
    return c;
  }

  private push(m: unknown[]): void {
    const w = this.waiting.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  send(m: unknown[]): void {
    this.sendBytes(this.serializer.encode(m));
  }

  sendRaw(bytes: Buffer): void {
    this.sendBytes(bytes);
  }

  next(ms = 2000): Promise<unknown[]> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no WAMP message")), ms);
      this.waiting.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  }

  /** Sends HELLO and returns WELCOME (or throws with what came instead). */
  async hello(realm = "realm1", details: Record<string, unknown> = {}): Promise<unknown[]> {
    this.send([
      1,
      realm,
      {
        roles: {
          publisher: {},
          subscriber: {},
          caller: {},
          callee: { features: { call_canceling: true, progressive_call_results: true } },
        },
        ...details,
      },
    ]);
    const m = await this.next();
    if (m[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(m)}`);
    return m;
  }

  close(): void {
    this.closeFn();
  }
}
