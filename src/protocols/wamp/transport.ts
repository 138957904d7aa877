/**
 * The two WAMP transports as one message-oriented interface: WebSocket (WAMP §14.5.2, one WAMP
 * message per WebSocket message, text frames for JSON) and RawSocket over TCP (WAMP §14.5.3, with
 * its handshake). Both write their frames through a TickFrameWriter
 * (src/transports/tick-frame-writer.ts): the frames of one tick reach the socket together, small
 * ones copied into one buffer.
 */
import type { Socket } from "node:net";
import { type FrameHeaders, TickFrameWriter } from "../../transports/tick-frame-writer.js";
import type { ByteStream, TransportKind } from "../../transports/types.js";
import { DATA_FRAME_HEADERS } from "../../transports/websocket/frames.js";
import type { MessageSocket } from "../../transports/websocket/message-socket.js";
import {
  encodeHandshake,
  encodeHandshakeError,
  FrameType,
  HandshakeError,
  parseHandshake,
  RAWSOCKET_HEADER_LENGTH,
  RawSocketDecoder,
  writeRawSocketHeader,
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

const RAWSOCKET_HEADERS: FrameHeaders = {
  length: () => RAWSOCKET_HEADER_LENGTH,
  write: writeRawSocketHeader,
};

/**
 * WAMP over WebSocket. The connection (src/transports/websocket/message-socket.ts) decodes incoming
 * frames, writes the control frames (pong, close) as whole frames, and drops data written after its
 * close frame; the data frames are written here.
 */
export class WebSocketTransport implements WampTransport {
  readonly peerMaxLength = Number.POSITIVE_INFINITY;
  /** FIN + opcode: text (0x1) for JSON, binary (0x2) for MessagePack and CBOR. */
  private readonly byte0: number;
  private readonly writer: TickFrameWriter;

  constructor(
    private readonly ws: MessageSocket,
    readonly kind: TransportKind,
    serializer: Serializer,
  ) {
    this.byte0 = serializer.binary ? 0x82 : 0x81;
    // Once the closing handshake has begun the close frame is out: write() drops what would follow it.
    this.writer = new TickFrameWriter((chunk) => ws.write(chunk), DATA_FRAME_HEADERS);
  }

  get buffered(): number {
    return this.ws.writableLength + this.writer.pending;
  }

  start(events: TransportEvents): void {
    // Text and binary messages alike: the serializer decides what the bytes are.
    this.ws.start(events);
  }

  send(bytes: Buffer): void {
    if (this.ws.open) this.writer.write(this.byte0, bytes);
  }

  close(): void {
    this.writer.flush();
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export class RawSocketTransport implements WampTransport {
  private readonly decoder: RawSocketDecoder;
  private readonly writer: TickFrameWriter;
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
    this.writer = new TickFrameWriter((chunk) => {
      if (!this.closed) stream.write(chunk);
    }, RAWSOCKET_HEADERS);
    if (rest.length > 0) this.pending = rest;
  }

  get buffered(): number {
    return this.stream.writableLength + this.writer.pending;
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
    if (!this.closed) this.writer.write(type, bytes);
  }

  close(): void {
    if (this.closed) return;
    this.writer.flush();
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
