/**
 * A raw AMQP 0-9-1 connection for the load generator: handshake (PLAIN guest/guest), channel 1,
 * synchronous methods awaited by name, and a hook for everything else (deliveries, confirms).
 */
import { connect as netConnect, type Socket } from "node:net";
import { decodeMethod, type Method, PROTOCOL_HEADER } from "../../src/protocols/amqp091/codec/index.js";
import { FrameSplitter, method } from "./frames.js";

type Waiter = { name: string; resolve: (m: Method) => void };

export class BenchConnection {
  /** Called for every method frame not awaited: (classId, methodId, buffer, where arguments start). */
  onMethod: (classId: number, methodId: number, buf: Buffer, argsAt: number) => void = () => {};
  onBody: ((buf: Buffer, start: number, end: number) => void) | undefined;
  /** Called after each chunk from the broker was split (for batched replies: one write per read). */
  onChunkEnd: () => void = () => {};
  private waiters: Waiter[] = [];
  private readonly splitter: FrameSplitter;

  private constructor(readonly socket: Socket) {
    this.splitter = new FrameSplitter(
      (c, m, buf, at) => {
        // Hot path: deliveries and confirms go straight to the hook; replies are decoded.
        if (this.waiters.length > 0 && !(c === 60 && (m === 60 || m === 80 || m === 120))) {
          const decoded = decodeMethod(buf, at - 4, at - 4 + buf.readUInt32BE(at - 8));
          const i = this.waiters.findIndex((w) => w.name === decoded.name);
          if (i >= 0) {
            this.waiters.splice(i, 1)[0]!.resolve(decoded);
            return;
          }
        }
        this.onMethod(c, m, buf, at);
      },
      (buf, start, end) => this.onBody?.(buf, start, end),
    );
    socket.on("data", (chunk: Buffer) => {
      this.splitter.push(chunk);
      this.onChunkEnd();
    });
    socket.on("error", () => {});
  }

  static async open(port: number, opts: { channel?: boolean } = {}): Promise<BenchConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new BenchConnection(socket);
    socket.write(PROTOCOL_HEADER);
    await c.expect("connection.start");
    socket.write(
      method(0, "connection.start-ok", {
        clientProperties: { product: "switchboard-bench" },
        mechanism: "PLAIN",
        response: Buffer.from("\0guest\0guest"),
        locale: "en_US",
      }),
    );
    const tune = await c.expect("connection.tune");
    socket.write(
      method(0, "connection.tune-ok", {
        channelMax: tune.args.channelMax,
        frameMax: tune.args.frameMax,
        heartbeat: 0,
      }),
    );
    socket.write(method(0, "connection.open", { virtualHost: "/" }));
    await c.expect("connection.open-ok");
    if (opts.channel !== false) await c.call(method(1, "channel.open"), "channel.open-ok");
    return c;
  }

  expect(name: string): Promise<Method> {
    return new Promise((resolve) => this.waiters.push({ name, resolve }));
  }

  /** Sends a synchronous method and waits for its reply. */
  call(bytes: Buffer, reply: string): Promise<Method> {
    const p = this.expect(reply);
    this.socket.write(bytes);
    return p;
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }
}
