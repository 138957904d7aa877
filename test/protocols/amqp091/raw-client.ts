/**
 * A raw AMQP 0-9-1 peer over node:net for handshake and malformed-input tests: sends any bytes,
 * decodes what the broker answers with the project's codec, waits for methods or for the close.
 */
import { connect as netConnect, type Socket } from "node:net";
import {
  decodeMethod,
  encodeMethod,
  FRAME_END,
  FRAME_METHOD,
  type Frame,
  FrameDecoder,
  type Method,
  type MethodArgs,
  PROTOCOL_HEADER,
  Writer,
} from "../../../src/protocols/amqp091/codec/index.js";

export interface ReceivedMethod extends Method {
  channel: number;
}

export class RawAmqp {
  readonly frames: Frame[] = [];
  readonly methods: ReceivedMethod[] = [];
  /** Bytes received before any frame (the protocol header answer to a bad header). */
  raw = Buffer.alloc(0);
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  private waiters = new Set<() => void>();
  private decodeFrames = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      if (this.decodeFrames) this.decode();
      this.wake();
    });
    socket.on("error", () => {});
    this.whenClosed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawAmqp> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => {
        s.off("error", reject);
        resolve(new RawAmqp(s));
      });
      s.once("error", reject);
    });
  }

  /** Header, start-ok (PLAIN guest/guest), tune-ok, open, and channel 1 opened. */
  static async ready(port: number, tune: MethodArgs = {}): Promise<RawAmqp> {
    const c = await RawAmqp.open(port);
    c.decodeFrames = true;
    c.send(PROTOCOL_HEADER);
    await c.waitFor("connection.start");
    c.method(0, "connection.start-ok", {
      clientProperties: { product: "raw" },
      mechanism: "PLAIN",
      response: Buffer.from("\0guest\0guest"),
      locale: "en_US",
    });
    const t = await c.waitFor("connection.tune");
    c.method(0, "connection.tune-ok", {
      channelMax: t.args.channelMax,
      frameMax: t.args.frameMax,
      heartbeat: 0,
      ...tune,
    });
    c.method(0, "connection.open", { virtualHost: "/" });
    await c.waitFor("connection.open-ok");
    c.method(1, "channel.open");
    await c.waitFor("channel.open-ok");
    return c;
  }

  startDecoding(): void {
    this.decodeFrames = true;
    this.decode();
  }

  private decode(): void {
    const bytes = this.raw;
    this.raw = Buffer.alloc(0);
    this.decoder.push(bytes, (f) => {
      this.frames.push(f);
      if (f.type === FRAME_METHOD) this.methods.push({ ...decodeMethod(f.payload), channel: f.channel });
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  method(channel: number, name: string, args: MethodArgs = {}): void {
    this.send(encodeMethod(channel, name, args));
  }

  /** A frame with any type, channel and payload, and a chosen frame-end octet. */
  frame(type: number, channel: number, payload: Buffer, end = FRAME_END): void {
    const w = new Writer(payload.length + 8);
    w.octet(type);
    w.short(channel);
    w.long(payload.length);
    w.bytes(payload);
    w.octet(end);
    this.send(Buffer.from(w.result()));
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Waits for the next method called `name` not consumed yet (searching from the start). */
  async waitFor(name: string, channel?: number, timeoutMs = 5000): Promise<ReceivedMethod> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.methods.findIndex(
        (m) => m.name === name && (channel === undefined || m.channel === channel),
      );
      if (i >= 0) return this.methods.splice(i, 1)[0]!;
      if (this.closed)
        throw new Error(
          `closed while waiting for ${name}; got ${this.methods.map((m) => m.name).join(", ")}`,
        );
      if (Date.now() > until)
        throw new Error(`timeout waiting for ${name}; got ${this.methods.map((m) => m.name).join(", ")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 50);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await Promise.race([
      this.whenClosed,
      new Promise((_r, reject) =>
        setTimeout(() => reject(new Error("socket not closed")), timeoutMs).unref(),
      ),
    ]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
