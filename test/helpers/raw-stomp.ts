/**
 * A raw STOMP client for tests: sends frames or bytes exactly as given and collects the frames the
 * broker sends, decoded with the adapter's own decoder (so byte-level cases can be written by hand).
 */
import { connect, type Socket } from "node:net";
import {
  encodeFrame,
  type Header,
  header,
  StompDecoder,
  type StompFrame,
  type StompVersion,
} from "../../src/protocols/stomp/codec/index.js";

export class RawStomp {
  readonly frames: StompFrame[] = [];
  /** Bytes received that were only heart-beat EOLs between frames. */
  heartbeats = 0;
  closed = false;
  private readonly decoder = new StompDecoder({
    maxFrameSize: 64 * 1024 * 1024,
    maxHeaders: 10_000,
    maxHeaderLength: 1 << 20,
  });
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    public version: StompVersion,
  ) {
    this.decoder.version = version;
    socket.on("data", (chunk: Buffer) => {
      let onlyEols = true;
      for (const b of chunk) if (b !== 10 && b !== 13) onlyEols = false;
      if (onlyEols) this.heartbeats++;
      this.decoder.push(chunk, (f) => this.frames.push(f));
      this.wake();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, version: StompVersion = "1.2"): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawStomp(s, version)));
      s.once("error", reject);
    });
  }

  /** Opens a connection and completes CONNECT; resolves with the CONNECTED frame. */
  static async connect(
    port: number,
    headers: Header[] = [],
    version: StompVersion = "1.2",
  ): Promise<{ client: RawStomp; connected: StompFrame }> {
    const client = await RawStomp.open(port, version);
    const accept: Header[] =
      version === "1.0"
        ? []
        : [
            ["accept-version", version],
            ["host", "/"],
          ];
    client.send("CONNECT", [...accept, ...headers]);
    const connected = await client.waitFor((f) => f.command === "CONNECTED" || f.command === "ERROR");
    return { client, connected };
  }

  send(command: string, headers: Header[] = [], body: Buffer | string = ""): void {
    this.socket.write(encodeFrame(command, headers, this.version, body));
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first frame (from `from` on) that satisfies pred. */
  waitFor(pred: (f: StompFrame) => boolean, timeoutMs = 5000, from = 0): Promise<StompFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; frames: ${this.describe()}`)), timeoutMs);
      const check = (): void => {
        for (let i = from; i < this.frames.length; i++) {
          if (pred(this.frames[i]!)) {
            clearTimeout(timer);
            resolve(this.frames[i]!);
            return;
          }
        }
        if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`closed; frames: ${this.describe()}`));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  waitCommand(command: string, timeoutMs = 5000): Promise<StompFrame> {
    return this.waitFor((f) => f.command === command, timeoutMs);
  }

  /** The RECEIPT for `id`. */
  waitReceipt(id: string, timeoutMs = 5000): Promise<StompFrame> {
    return this.waitFor((f) => f.command === "RECEIPT" && header(f, "receipt-id") === id, timeoutMs);
  }

  /** Waits for `count` MESSAGE frames in total. */
  async waitMessages(count: number, timeoutMs = 5000): Promise<StompFrame[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const msgs = this.frames.filter((f) => f.command === "MESSAGE");
      if (msgs.length >= count) return msgs;
      if (this.closed) throw new Error(`closed after ${msgs.length} messages; frames: ${this.describe()}`);
      if (Date.now() > until)
        throw new Error(`${msgs.length} of ${count} messages; frames: ${this.describe()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitClose(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error("not closed")), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  messages(): StompFrame[] {
    return this.frames.filter((f) => f.command === "MESSAGE");
  }

  describe(): string {
    return this.frames
      .map(
        (f) =>
          `${f.command}{${f.headers.map((h) => h.join(":")).join(",")}}${f.body.length ? ` ${JSON.stringify(f.body.toString().slice(0, 80))}` : ""}`,
      )
      .join(" | ");
  }

  destroy(): void {
    this.socket.destroy();
  }
}
