/** A raw AMQP 1.0 client for bad-input tests: hand-built frames, decoded replies. */
import net from "node:net";
import { decodeFrame, encodeFrame, type Frame } from "../../../src/protocols/amqp10/codec/frames.js";
import type { AmqpValue } from "../../../src/protocols/amqp10/codec/types.js";

export class RawAmqp10 {
  readonly frames: Frame[] = [];
  headers: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private headerPending = true;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<RawAmqp10> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new RawAmqp10(s)));
      s.once("error", reject);
    });
  }

  /** After a header is sent, the broker's header comes back before frames. */
  expectHeader(): void {
    this.headerPending = true;
  }

  private parse(): void {
    for (;;) {
      if (this.headerPending) {
        if (this.buf.length < 8) return;
        this.headers.push(this.buf.subarray(0, 8));
        this.buf = this.buf.subarray(8);
        this.headerPending = false;
        continue;
      }
      if (this.buf.length < 8) return;
      const size = this.buf.readUInt32BE(0);
      if (this.buf.length < size) return;
      this.frames.push(decodeFrame(Buffer.from(this.buf.subarray(0, size))));
      this.buf = this.buf.subarray(size);
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(b: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(b) ? b : Buffer.from(b));
  }

  frame(channel: number, code: number, fields: AmqpValue[], payload?: Buffer, type = 0): void {
    this.write(encodeFrame(type, channel, code, fields, payload));
  }

  /** Waits for the first frame (removed from the list) matching `pred`. */
  async next(pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> {
    const until = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      const left = until - Date.now();
      if (left <= 0 || this.closed)
        throw new Error(`no matching frame (have ${this.frames.map((f) => f.code).join(",")})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > until) throw new Error("socket not closed");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

/** The condition of the error field of a close / end / detach. */
export function conditionOf(v: AmqpValue | undefined): string | undefined {
  if (v === undefined || v.type !== "described" || v.value.type !== "list") return undefined;
  const c = v.value.value[0];
  return c && (c.type === "symbol" || c.type === "string") ? c.value : undefined;
}
