/**
 * The two WAMP transports as one message-oriented interface: WebSocket (WAMP §14.5.2, one WAMP
 * message per WebSocket message, text frames for JSON) and RawSocket over TCP (WAMP §14.5.3, with
 * its handshake). Writes made within one tick go out together: the socket is corked on the first
 * write of a tick and uncorked on the next tick, so a burst of messages is one writev (two for a
 * long burst: see EARLY_FLUSH_AFTER).
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { ByteStream, TransportKind } from "../../transports/types.js";
import {
  encodeHandshake,
  encodeHandshakeError,
  FrameType,
  frameHeader,
  HandshakeError,
  parseHandshake,
  RawSocketDecoder,
} from "./codec/rawsocket.js";
import { type Serializer, serializerByRawSocketCode } from "./codec/serializers.js";

export interface TransportEvents {
  message(bytes: Buffer): void;
  /** The transport broke the protocol (RawSocket framing); it is closed after the handler runs. */
  error(reason: string): void;
  close(): void;
}

export interface WampTransport {
  readonly kind: TransportKind;
  /** Largest message the peer accepts (negotiated on RawSocket; unbounded on WebSocket). */
  readonly peerMaxLength: number;
  /** Bytes written and not yet handed to the kernel. */
  readonly buffered: number;
  start(events: TransportEvents): void;
  send(bytes: Buffer): void;
  /** Graceful close after pending writes. */
  close(): void;
  destroy(): void;
}

type CorkedSocket = Socket & { wampCorked?: boolean; wampCorkedWrites?: number };

/**
 * In a long burst (one read of many CALLs gives as many INVOCATIONs), the first this many messages
 * leave early, once per tick: the peer, often a closed loop waiting for them, starts on those while
 * the router produces the rest, instead of the two sides taking turns. bench/wamp, RPC with 100
 * calls in flight: +45%; flushing every 16 writes instead of once cost one-way streams throughput.
 */
const EARLY_FLUSH_AFTER = 16;

function uncorkSocket(socket: CorkedSocket): void {
  socket.wampCorked = false;
  socket.uncork();
}

function corkForTick(socket: CorkedSocket | undefined): void {
  if (socket === undefined) return;
  if (socket.wampCorked) {
    if (++socket.wampCorkedWrites! === EARLY_FLUSH_AFTER) {
      socket.uncork();
      socket.cork();
    }
    return;
  }
  socket.wampCorked = true;
  socket.wampCorkedWrites = 0;
  socket.cork();
  process.nextTick(uncorkSocket, socket);
}

const TEXT = { binary: false };
const BINARY = { binary: true };

export class WebSocketTransport implements WampTransport {
  readonly peerMaxLength = Number.POSITIVE_INFINITY;
  private readonly sendOptions: { binary: boolean };
  /** ws keeps its net.Socket in `_socket`; corking it batches a tick's frames into one write. */
  private readonly socket: Socket | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly kind: TransportKind,
    serializer: Serializer,
  ) {
    this.sendOptions = serializer.binary ? BINARY : TEXT;
    this.socket = (ws as unknown as { _socket?: Socket })._socket;
  }

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  start(events: TransportEvents): void {
    this.ws.on("message", (data: Buffer) => events.message(data));
    this.ws.once("close", () => events.close());
  }

  send(bytes: Buffer): void {
    if (this.ws.readyState !== 1) return;
    corkForTick(this.socket);
    this.ws.send(bytes, this.sendOptions);
  }

  close(): void {
    if (this.ws.readyState === 1) this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export class RawSocketTransport implements WampTransport {
  private readonly decoder: RawSocketDecoder;
  private events: TransportEvents | undefined;
  private pending: Buffer | undefined;
  private closed = false;

  constructor(
    private readonly stream: ByteStream,
    readonly kind: TransportKind,
    readonly peerMaxLength: number,
    maxLength: number,
    /** Bytes that came with the handshake. */
    rest: Buffer,
  ) {
    this.decoder = new RawSocketDecoder(maxLength);
    if (rest.length > 0) this.pending = rest;
  }

  get buffered(): number {
    return this.stream.writableLength;
  }

  start(events: TransportEvents): void {
    this.events = events;
    this.stream.on("data", this.onData);
    this.stream.on("close", () => {
      this.closed = true;
      events.close();
    });
    const rest = this.pending;
    this.pending = undefined;
    if (rest) this.onData(rest);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      this.events?.error((err as Error).message);
      this.destroy();
    }
  };

  private readonly onFrame = (type: number, payload: Buffer): void => {
    if (this.closed) return;
    if (type === FrameType.MESSAGE) this.events?.message(payload);
    else if (type === FrameType.PING) this.write(FrameType.PONG, payload);
  };

  send(bytes: Buffer): void {
    this.write(FrameType.MESSAGE, bytes);
  }

  private write(type: number, bytes: Buffer): void {
    if (this.closed) return;
    corkForTick(this.stream as unknown as Socket);
    this.stream.write(frameHeader(type, bytes.length));
    this.stream.write(bytes);
  }

  close(): void {
    this.closed = true;
    this.stream.end();
  }

  destroy(): void {
    this.closed = true;
    this.stream.destroy();
  }
}

/**
 * Runs the RawSocket handshake (WAMP §14.5.3.1) on a new TCP stream: the client's 4 octets choose
 * the serializer and its maximum message length; the router answers with its own maximum, or with
 * an error code and closes. `ready` gets the transport once the handshake succeeded.
 */
export function acceptRawSocket(
  stream: ByteStream,
  kind: TransportKind,
  maxLength: number,
  timeoutMs: number,
  ready: (transport: RawSocketTransport, serializer: Serializer) => void,
): void {
  let head: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => stream.destroy(), timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < 4) return;
    clearTimeout(timer);
    stream.pause();
    (stream as unknown as Socket).removeListener?.("data", onData);
    const hs = parseHandshake(head);
    if (hs === -1) return stream.destroy();
    const serializer = typeof hs === "number" ? undefined : serializerByRawSocketCode(hs.serializerCode);
    if (typeof hs === "number" || serializer === undefined) {
      const code = typeof hs === "number" ? hs : HandshakeError.SERIALIZER_UNSUPPORTED;
      stream.write(encodeHandshakeError(code));
      stream.end();
      return;
    }
    stream.write(encodeHandshake(maxLength, serializer.rawSocketCode));
    const transport = new RawSocketTransport(stream, kind, hs.maxLength, maxLength, head.subarray(4));
    ready(transport, serializer);
    stream.resume();
  };
  stream.on("data", onData);
  stream.on("close", () => clearTimeout(timer));
}
