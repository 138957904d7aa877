/**
 * The two WAMP transports as one message-oriented interface: WebSocket (WAMP §14.5.2, one WAMP
 * message per WebSocket message, text frames for JSON) and RawSocket over TCP (WAMP §14.5.3, with
 * its handshake). Writes made within one tick go out together (two pieces for a long burst: see
 * EARLY_FLUSH_AFTER): RawSocket corks the socket until the next tick, WebSocket copies small frames
 * into one buffer.
 */
import type { Socket } from "node:net";
import { ARENA_MAX_COPY, OutputArena } from "../../transports/output-arena.js";
import type { ByteStream, TransportKind } from "../../transports/types.js";
import { frameHeaderLength, writeFrameHeader } from "../../transports/websocket/frames.js";
import type { MessageSocket } from "../../transports/websocket/message-socket.js";
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

/**
 * WebSocket data frames are written here, not one by one: a small frame (header and message) is
 * copied into an arena that the tick's frames share, so a burst costs no header Buffer or stream
 * write per message and reaches the socket as one chunk at the end of the tick (or early, after
 * EARLY_FLUSH_AFTER frames). Server frames are unmasked (RFC 6455 §5.1) and unfragmented. The
 * connection (src/transports/websocket/message-socket.ts) decodes incoming frames, writes the
 * control frames (pong, close) as whole frames too, and drops data written after its close frame.
 */
export class WebSocketTransport implements WampTransport {
  readonly peerMaxLength = Number.POSITIVE_INFINITY;
  /** FIN + opcode: text (0x1) for JSON, binary (0x2) for MessagePack and CBOR. */
  private readonly byte0: number;
  /** Small frames of a busy tick (src/transports/output-arena.ts); none while the session is quiet. */
  private arena: OutputArena | undefined;
  private scheduled = false;
  private frames = 0;

  constructor(
    private readonly ws: MessageSocket,
    readonly kind: TransportKind,
    serializer: Serializer,
  ) {
    this.byte0 = serializer.binary ? 0x82 : 0x81;
  }

  get buffered(): number {
    return this.ws.writableLength + (this.arena?.pending ?? 0);
  }

  start(events: TransportEvents): void {
    // Text and binary messages alike: the serializer decides what the bytes are.
    this.ws.start(events);
  }

  send(bytes: Buffer): void {
    const ws = this.ws;
    if (!ws.open) return;
    const n = bytes.length;
    const head = frameHeaderLength(n);
    if (!this.scheduled) {
      this.scheduled = true;
      this.frames = 0;
      process.nextTick(this.onTick);
    } else if (++this.frames === EARLY_FLUSH_AFTER) this.flush();
    if (head + n > ARENA_MAX_COPY) {
      this.flush();
      const h = Buffer.allocUnsafe(head);
      writeFrameHeader(h, 0, this.byte0, n);
      ws.write(h);
      ws.write(bytes);
      return;
    }
    let a = this.arena;
    if (a === undefined && this.frames === 0) {
      // The first frame of a tick, with no arena: one pooled buffer of its own.
      const f = Buffer.allocUnsafe(head + n);
      f.set(bytes, writeFrameHeader(f, 0, this.byte0, n));
      ws.write(f);
      return;
    }
    if (a === undefined || !a.room(head + n)) {
      this.flush();
      a = this.arena = new OutputArena();
    }
    a.buf.set(bytes, writeFrameHeader(a.buf, a.offset, this.byte0, n));
    a.appended(head + n);
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    this.flush();
    if (this.frames === 0) this.arena = undefined; // one frame this tick: a quiet connection
  };

  private flush(): void {
    const chunk = this.arena?.take();
    // Once the closing handshake has begun the close frame is out: write() drops what would follow it.
    if (chunk !== undefined) this.ws.write(chunk);
  }

  close(): void {
    this.flush();
    this.ws.close(1000);
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
