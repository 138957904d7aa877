/**
 * A `ws` WebSocket seen as a ByteStream, with the same semantics as a net.Socket so adapters cannot
 * tell them apart. Message boundaries carry no meaning: every incoming message (binary or text) is one
 * 'data' chunk, in order; the adapter's decoder reassembles packets split over, or packed into, messages.
 */
import { EventEmitter } from "node:events";
import type { RawData, WebSocket } from "ws";
import type { ByteStream } from "./types.js";

export interface WebSocketStreamOptions {
  /** write() returns false once this many bytes are queued. Default 16 KiB (net.Socket's default). */
  highWaterMark?: number;
  /** While corked, pending bytes are sent as a frame early once they would exceed this. Default 1 MiB. */
  maxCoalesce?: number;
  /** Send text frames instead of binary ones (XMPP over WebSocket, RFC 7395 §3.2). Default false. */
  text?: boolean;
}

const OPEN = 1; // WebSocket.OPEN, without importing the runtime value

export class WebSocketStream extends EventEmitter implements ByteStream {
  private readonly ws: WebSocket;
  private readonly highWaterMark: number;
  private readonly maxCoalesce: number;
  private readonly sendOptions: { binary: boolean };
  private corked = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needDrain = false;
  private ended = false;
  /** null until a 'data' listener or resume(); false after pause() (like a Readable). */
  private flowing: boolean | null = null;

  constructor(ws: WebSocket, opts: WebSocketStreamOptions = {}) {
    super();
    this.ws = ws;
    this.highWaterMark = opts.highWaterMark ?? 16 * 1024;
    this.maxCoalesce = opts.maxCoalesce ?? 1024 * 1024;
    this.sendOptions = { binary: !opts.text };
    ws.binaryType = "nodebuffer";
    ws.pause(); // nothing is read until someone listens for 'data'
    ws.on("message", this.onMessage);
    ws.on("error", (err: Error) => this.emit("error", err));
    ws.once("close", () => {
      this.pending = [];
      this.pendingBytes = 0;
      this.emit("close");
    });
  }

  override on(event: "data", fn: (chunk: Buffer) => void): this;
  override on(event: "drain" | "close", fn: () => void): this;
  override on(event: "error", fn: (err: Error) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override on(event: string | symbol, fn: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override on(event: string | symbol, fn: (...args: any[]) => void): this {
    super.on(event, fn);
    if (event === "data" && this.flowing === null) this.resume();
    return this;
  }

  get writableLength(): number {
    return this.ws.bufferedAmount + this.pendingBytes;
  }

  write(chunk: Buffer): boolean {
    if (this.ended || this.ws.readyState !== OPEN) return false;
    if (this.corked > 0) {
      if (this.pendingBytes > 0 && this.pendingBytes + chunk.length > this.maxCoalesce) this.flush();
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    } else {
      this.ws.send(chunk, this.sendOptions, this.onSent);
    }
    if (this.writableLength < this.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0) return;
    if (--this.corked === 0) this.flush();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.corked = 0;
    if (this.ws.readyState !== OPEN) return;
    this.flush();
    this.ws.close(1000); // the close frame is queued after the data frames
    // The closing handshake needs the peer's close frame to be read, even if reading was paused.
    this.ws.resume();
  }

  destroy(): void {
    this.ended = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.ws.terminate();
  }

  pause(): void {
    this.flowing = false;
    this.ws.pause();
  }

  resume(): void {
    this.flowing = true;
    this.ws.resume();
  }

  /** Send the corked bytes as one binary frame. */
  private flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    const frame = n === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.ws.readyState === OPEN) this.ws.send(frame, this.sendOptions, this.onSent);
  }

  private readonly onMessage = (data: RawData): void => {
    // binaryType "nodebuffer": data is a Buffer for binary and text frames alike
    this.emit("data", data as Buffer);
  };

  /** ws has no 'drain': each send's callback runs once its bytes left the socket buffer. */
  private readonly onSent = (err?: Error): void => {
    if (err || !this.needDrain || this.writableLength >= this.highWaterMark) return;
    this.needDrain = false;
    this.emit("drain");
  };
}
