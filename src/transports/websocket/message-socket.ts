/**
 * A server-side WebSocket connection for message-oriented protocols (WAMP at /ws): whole messages in,
 * data frames out, and the control frames RFC 6455 asks of a server (§5.5: pong for ping; §7: the
 * closing handshake). It replaces `ws`'s WebSocket on that endpoint because `ws`'s receive path was
 * about 14% of the router's CPU in the WAMP PubSub 1 → 1 benchmark (bench/WAMP-RESULTS.md): see
 * frame-decoder.ts. The byte-stream endpoints (MQTT, STOMP, XMPP over WebSocket) still use `ws`.
 *
 * The handshake is done before (handshake.ts, called by http.ts). Data frames are written by the
 * caller through write() (the WAMP transport batches a tick's frames into one chunk), so this object
 * holds no output buffer; the decoder holds input only while a frame is incomplete.
 *
 * Closing: a close frame from the client is answered with one echoing its code (or an empty one),
 * then the socket is ended. close() sends ours and waits for the client's. A protocol error sends a
 * close frame with its code and ends the socket. Nothing is written after our close frame, no
 * message is delivered after close() or the client's close frame, and a client that does not finish
 * the closing handshake within CLOSE_TIMEOUT_MS is cut off. Socket errors just close the connection.
 */
import { isUtf8 } from "node:buffer";
import type { Socket } from "node:net";
import { FrameDecoder, type FrameSink } from "./frame-decoder.js";
import { CloseCode, closeFrame, controlFrame, isValidCloseCode, Opcode } from "./frames.js";

export interface MessageSocketEvents {
  /** A whole message; see FrameSink.message for the lifetime of `data`. */
  message(data: Buffer, binary: boolean): void;
  /** The TCP connection closed; emitted once. */
  close(): void;
}

/** How long the client has to finish a closing handshake before the socket is destroyed. */
export const CLOSE_TIMEOUT_MS = 5000;

const OPEN = 0;
/** Our close frame is out, or the socket was ended: nothing more is written or delivered. */
const CLOSING = 1;
const CLOSED = 2;

function ignoreError(): void {}

export class MessageSocket implements FrameSink {
  private state = OPEN;
  private events: MessageSocketEvents | undefined;
  private readonly decoder: FrameDecoder;
  /** The frame bytes that came with the upgrade request, until start(). */
  private head: Buffer | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    /** The negotiated subprotocol. */
    readonly protocol: string,
    maxPayload: number,
  ) {
    this.decoder = new FrameDecoder(maxPayload, this);
    if (head.length > 0) this.head = head;
    socket.setTimeout(0);
    socket.setNoDelay(true); // one message is often one small frame, and a peer waits for it
    if (socket.listenerCount("error") === 0) socket.on("error", ignoreError);
    socket.on("end", this.onEnd);
    socket.once("close", this.onClose);
  }

  /** True until a close frame was sent or received, or the socket ended. */
  get open(): boolean {
    return this.state === OPEN;
  }

  /** Bytes written and not yet handed to the kernel. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /** Starts reading and delivering; nothing is read (the socket is not flowing) before. */
  start(events: MessageSocketEvents): void {
    this.events = events;
    if (this.state === CLOSED) {
      process.nextTick(() => events.close());
      return;
    }
    this.read();
  }

  /** Writes whole, unmasked data frames (frames.ts writeFrameHeader); dropped once closing. */
  write(frames: Buffer): void {
    if (this.state === OPEN) this.socket.write(frames);
  }

  /** Starts the closing handshake; the socket closes when the client answers, or after CLOSE_TIMEOUT_MS. */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    this.socket.write(closeFrame(code, reason));
    this.armCloseTimer();
    this.read(); // closed before start(): the client's close frame must still be read
  }

  /** Destroys the socket now; queued bytes are dropped. */
  terminate(): void {
    if (this.state === OPEN) this.state = CLOSING;
    this.socket.destroy();
  }

  // ---- FrameSink: what the decoder found -------------------------------------------------------

  message(payload: Buffer, binary: boolean): void {
    if (this.state === OPEN) this.events!.message(payload, binary);
  }

  control(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.PING) {
      if (this.state === OPEN) this.socket.write(controlFrame(Opcode.PONG, payload));
      return;
    }
    if (opcode !== Opcode.CLOSE) return; // an unsolicited pong is a heartbeat: nothing to do (§5.5.3)
    if (payload.length === 1) return this.fail(CloseCode.PROTOCOL_ERROR, "close frame of 1 byte");
    let code: number | undefined;
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!isValidCloseCode(code)) return this.fail(CloseCode.PROTOCOL_ERROR, `invalid close code ${code}`);
      if (!isUtf8(payload.subarray(2))) return this.fail(CloseCode.INVALID_PAYLOAD, "close reason not UTF-8");
    }
    this.decoder.stop(); // nothing follows a close frame (§5.5.1)
    if (this.state === OPEN) {
      this.state = CLOSING;
      this.socket.write(closeFrame(code));
      this.armCloseTimer();
    }
    // Both close frames are out: the server closes the TCP connection first (§7.1.1).
    this.socket.end();
  }

  fail(code: number, reason: string): void {
    this.decoder.stop();
    if (this.state === OPEN) {
      this.state = CLOSING;
      this.socket.write(closeFrame(code, reason));
      this.armCloseTimer();
    }
    this.socket.end();
  }

  // ---- socket events ------------------------------------------------------------------------------

  private read(): void {
    if (this.reading) return;
    this.reading = true;
    const head = this.head;
    this.head = undefined;
    if (head !== undefined) this.decoder.push(head);
    this.socket.on("data", this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.decoder.push(chunk);
  };

  /** The client ended its side (with or without a closing handshake): end ours. */
  private readonly onEnd = (): void => {
    if (this.state === OPEN) this.state = CLOSING;
    this.decoder.stop();
    this.socket.end();
    this.armCloseTimer();
  };

  private readonly onClose = (): void => {
    this.state = CLOSED;
    this.decoder.stop();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.events?.close();
  };

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.state === CLOSED) return;
    this.closeTimer = setTimeout(destroySocket, CLOSE_TIMEOUT_MS, this.socket);
    this.closeTimer.unref();
  }
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
