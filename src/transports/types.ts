/**
 * Transport-layer contracts. A transport accepts connections and hands each one to a protocol adapter
 * as a {@link ByteStream}; it knows nothing about the protocol spoken on it.
 */

export type TransportKind = "tcp" | "tls" | "ws" | "wss";

export interface TransportInfo {
  kind: TransportKind;
  remoteAddress: string;
  remotePort: number;
  secure: boolean;
}

/**
 * What an adapter talks to: a byte stream. A `net.Socket` / `tls.TLSSocket` satisfies it as is;
 * WebSocket connections are wrapped by `WebSocketStream` with the same semantics:
 * - no 'data' is emitted until a 'data' listener is attached (or `resume()` is called), so an adapter
 *   that attaches its listener late loses nothing;
 * - 'error' is always followed by 'close'; 'close' is emitted once.
 */
export interface ByteStream {
  /** Queue bytes. Returns false on backpressure; 'drain' follows. */
  write(chunk: Buffer): boolean;
  /** Batch writes within a tick; nestable, flushed when every cork() has its uncork(). */
  cork(): void;
  uncork(): void;
  /** Graceful close after pending writes flush. */
  end(): void;
  /** Abort now; queued bytes are dropped. */
  destroy(): void;
  /** Bytes queued and not yet handed to the kernel, for bounded per-client buffers. */
  readonly writableLength: number;
  on(event: "data", fn: (chunk: Buffer) => void): void;
  on(event: "drain" | "close", fn: () => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  /** Read-side flow control. */
  pause(): void;
  resume(): void;
}

export type ConnectionHandler = (stream: ByteStream, info: TransportInfo) => void;

export interface Listener {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stop listening and destroy every open connection; resolves promptly. */
  close(): Promise<void>;
}
