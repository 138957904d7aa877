/**
 * One AMQP 1.0 connection (part 2 §2.4): the optional SASL layer (part 5 §5.3), the protocol header
 * exchange, open / close, idle timeout, frame parsing and the sessions on its channels. Errors
 * raised while handling a frame end the connection, its session or its link with the matching
 * condition (errors.ts); the other sessions and connections are unaffected.
 */

import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import type { Message, QoS } from "../../core/message.js";
import type { Router } from "../../core/router.js";
import type { RpcBridge } from "../../core/rpc-bridge.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import type { Amqp10Adapter } from "./adapter.js";
import { DecodeError } from "./codec/decoder.js";
import {
  AMQP_HEADER,
  decodeFrame,
  encodeFrame,
  FRAME_AMQP,
  FRAME_SASL,
  type Frame,
  HEARTBEAT,
  MIN_MAX_FRAME_SIZE,
  P,
  SASL_HEADER,
} from "./codec/frames.js";
import { type AmqpValue, NULL, numberOf, str, symArray, textOf, ubyte, uint, ushort } from "./codec/types.js";
import { Amqp10Error, Cond, errorValue } from "./errors.js";
import type { Amqp10Options } from "./options.js";
import { Amqp10Session } from "./session.js";

type State = "sasl" | "sasl-auth" | "header" | "open" | "opened" | "closing" | "closed";

let nextId = 0;

export class Amqp10Connection implements SessionConnection {
  readonly id: string;
  /** Routed RPC calls made from this connection (handlers-rpc.ts), created on the first one. */
  rpc: RpcBridge | undefined;
  readonly info: ConnectionInfo;
  readonly router: Router;
  readonly log: Logger;
  readonly options: Amqp10Options;
  principal: Principal | undefined;
  /** The router session: presence, and server-initiated close. */
  session: Session | undefined;
  containerId = "";
  /** The peer's max-frame-size: our frames never exceed it. */
  remoteMaxFrameSize = MIN_MAX_FRAME_SIZE;
  readonly sessions = new Map<number, Amqp10Session>();
  /** The socket's buffer is over maxBufferedBytes: links stop sending until it drains. */
  congested = false;
  private state: State;
  private pending: Buffer | undefined;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private remoteIdleMs = 0;
  private processing = false;

  constructor(
    readonly adapter: Amqp10Adapter,
    readonly stream: ByteStream,
    transport: TransportInfo,
    sasl: boolean,
  ) {
    this.id = `amqp10-${++nextId}-${Date.now().toString(36)}`;
    this.router = adapter.router;
    this.log = adapter.log;
    this.options = adapter.options;
    this.info = {
      protocol: "amqp10",
      protocolVersion: "1.0",
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      transport: transport.kind,
      connectedAt: Date.now(),
    };
    this.secure = transport.secure;
    stream.on("close", () => this.cleanup());
    stream.on("error", () => this.stream.destroy());
    stream.on("drain", () => this.onDrain());
    this.handshakeTimer = setTimeout(() => this.destroy(), this.options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    if (sasl) {
      this.state = "sasl";
      stream.write(SASL_HEADER);
      // Both are offered; the Auth decides whether an anonymous client may connect.
      this.sendFrame(FRAME_SASL, 0, P.saslMechanisms, [symArray(["PLAIN", "ANONYMOUS"])]);
    } else {
      // No SASL: the client is anonymous; the Auth decides at open whether that is allowed.
      this.state = "open";
      stream.write(AMQP_HEADER);
    }
  }

  private readonly secure: boolean;

  // ---- input --------------------------------------------------------------------------------

  readonly onData = (chunk: Buffer): void => {
    this.lastReceived = Date.now();
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    this.processing = true;
    this.stream.cork();
    try {
      let off = 0;
      while (this.state !== "closed" && this.state !== "sasl-auth") {
        if (this.state === "header") {
          if (buf.length - off < 8) break;
          if (!buf.subarray(off, off + 8).equals(AMQP_HEADER)) {
            // After SASL only the AMQP header may follow (part 5 §5.3.1).
            this.stream.write(AMQP_HEADER);
            this.destroy();
            return;
          }
          off += 8;
          this.stream.write(AMQP_HEADER);
          this.state = "open";
          continue;
        }
        if (buf.length - off < 8) break;
        const size = buf.readUInt32BE(off);
        if (size < 8)
          throw new Amqp10Error(Cond.framingError, `frame size ${size} is smaller than its header`);
        if (size > this.options.maxFrameSize) {
          throw new Amqp10Error(
            Cond.framingError,
            `frame of ${size} bytes exceeds max-frame-size ${this.options.maxFrameSize}`,
          );
        }
        if (buf.length - off < size) break;
        const frame = buf.subarray(off, off + size);
        off += size;
        this.onFrame(frame);
      }
      if (off < buf.length && this.state !== "closed") {
        buf = buf.subarray(off);
        // Keep a copy only of what is left over, so the chunk can be freed.
        this.pending = Buffer.from(buf);
      }
      for (const s of this.sessions.values()) s.flush();
    } catch (err) {
      this.fail(err);
    } finally {
      this.processing = false;
      this.stream.uncork();
    }
  };

  private onFrame(bytes: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      if (err instanceof DecodeError) throw new Amqp10Error(Cond.decodeError, err.message);
      throw err;
    }
    if (this.state === "sasl") {
      if (frame.type !== FRAME_SASL || frame.code !== P.saslInit) {
        throw new Amqp10Error(Cond.notAllowed, "expected sasl-init");
      }
      this.onSaslInit(frame.fields);
      return;
    }
    if (frame.type !== FRAME_AMQP)
      throw new Amqp10Error(Cond.framingError, `unexpected frame type ${frame.type}`);
    if (frame.code === undefined) return; // empty frame: keeps the connection alive (part 2 §2.4.5)
    if (this.state === "open") {
      if (frame.code !== P.open) throw new Amqp10Error(Cond.notAllowed, "the first frame must be open");
      this.onOpen(frame.fields);
      return;
    }
    if (this.state === "closing") {
      if (frame.code === P.close) this.destroy();
      return;
    }
    switch (frame.code) {
      case P.close:
        this.onClose(frame.fields);
        return;
      case P.open:
        throw new Amqp10Error(Cond.notAllowed, "open received twice");
      case P.begin:
        this.onBegin(frame.channel, frame.fields);
        return;
      default: {
        const s = this.sessions.get(frame.channel);
        if (!s) throw new Amqp10Error(Cond.notAllowed, `no session on channel ${frame.channel}`);
        s.onFrame(frame);
      }
    }
  }

  // ---- SASL (part 5 §5.3) --------------------------------------------------------------------

  private onSaslInit(f: AmqpValue[]): void {
    const mechanism = textOf(f[0]);
    const response = f[1]?.type === "binary" ? f[1].value : undefined;
    let username: string | undefined;
    let password: Buffer | undefined;
    if (mechanism === "PLAIN") {
      // authzid NUL authcid NUL passwd (RFC 4616)
      const parts = splitNul(response ?? Buffer.alloc(0));
      if (parts.length !== 3) {
        this.saslOutcome(1);
        return;
      }
      username = parts[1]!.toString("utf8");
      password = parts[2]!;
    } else if (mechanism !== "ANONYMOUS") {
      this.saslOutcome(1);
      return;
    }
    this.state = "sasl-auth";
    this.authenticate(username, password).then(
      (ok) => {
        if (this.state === "closed") return;
        if (!ok) {
          this.saslOutcome(1);
          return;
        }
        this.sendFrame(FRAME_SASL, 0, P.saslOutcome, [ubyte(0)]);
        this.state = "header";
        this.resumeAfterAuth();
      },
      () => this.saslOutcome(2),
    );
  }

  private async authenticate(username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    const result = await this.router.auth.authenticate({
      protocol: "amqp10",
      clientId: this.id,
      username,
      password,
      remoteAddress: this.info.remoteAddress,
      secure: this.secure,
    });
    if (!result.ok) return false;
    this.principal = result.principal;
    this.info.username = result.principal.username;
    return true;
  }

  /** sasl-outcome with a failure code: the connection ends (part 5 §5.3.3.6). */
  private saslOutcome(code: number): void {
    this.sendFrame(FRAME_SASL, 0, P.saslOutcome, [ubyte(code)]);
    this.state = "closed";
    this.stream.end();
  }

  /** Bytes that arrived while the Auth was deciding. */
  private resumeAfterAuth(): void {
    const rest = this.pending;
    this.pending = undefined;
    if (rest && rest.length > 0) this.onData(rest);
  }

  // ---- open / close --------------------------------------------------------------------------

  private onOpen(f: AmqpValue[]): void {
    this.containerId = textOf(f[0]) ?? "";
    const mfs = numberOf(f[2]) ?? 0xffffffff;
    if (Number.isNaN(mfs)) throw new Amqp10Error(Cond.decodeError, "max-frame-size is not a uint");
    if (mfs < MIN_MAX_FRAME_SIZE) {
      throw new Amqp10Error(Cond.frameSizeTooSmall, `max-frame-size ${mfs} is below ${MIN_MAX_FRAME_SIZE}`);
    }
    this.remoteMaxFrameSize = Math.min(mfs, this.options.maxFrameSize);
    this.remoteIdleMs = numberOf(f[4]) ?? 0;
    if (this.principal === undefined) {
      // No SASL layer: authenticate as an anonymous client now.
      this.state = "sasl-auth";
      this.authenticate(undefined, undefined).then(
        (ok) => {
          if (this.state === "closed") return;
          this.state = "opened";
          if (!ok) {
            this.sendOpen();
            this.closeWith(Cond.unauthorizedAccess, "anonymous clients are not allowed: use SASL PLAIN");
            return;
          }
          this.opened();
          this.resumeAfterAuth();
        },
        () => this.destroy(),
      );
      return;
    }
    this.opened();
  }

  private opened(): void {
    this.state = "opened";
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.sendOpen();
    this.session = this.router.attach(this.id, "amqp10", true, 0, this).session;
    this.adapter.opened(this);
    this.startIdleTimer();
  }

  private sendOpen(): void {
    this.sendFrame(FRAME_AMQP, 0, P.open, [
      str(this.adapter.containerId),
      NULL,
      uint(this.options.maxFrameSize),
      ushort(this.options.channelMax),
      this.options.idleTimeoutMs > 0 ? uint(this.options.idleTimeoutMs) : NULL,
    ]);
  }

  /**
   * Idle timeout (part 2 §2.4.5): we send an empty frame when nothing went out for half the peer's
   * idle-time-out, and close with amqp:resource-limit-exceeded when the peer was silent longer than ours.
   */
  private startIdleTimer(): void {
    const ours = this.options.idleTimeoutMs;
    const theirs = this.remoteIdleMs;
    if (ours === 0 && theirs === 0) return;
    const tick = Math.max(50, Math.min(ours > 0 ? ours / 4 : Infinity, theirs > 0 ? theirs / 4 : Infinity));
    this.idleTimer = setInterval(() => {
      const now = Date.now();
      if (ours > 0 && now - this.lastReceived > ours) {
        this.closeWith(Cond.resourceLimitExceeded, "local-idle-timeout expired");
        return;
      }
      if (theirs > 0 && now - this.lastSent >= theirs / 2) this.write(HEARTBEAT);
    }, tick);
    this.idleTimer.unref();
  }

  private onClose(f: AmqpValue[]): void {
    const err = f[0];
    if (err && err.type === "described") this.log.debug("amqp10: client closed with error", { id: this.id });
    this.sendFrame(FRAME_AMQP, 0, P.close, []);
    this.state = "closed";
    this.stream.end();
  }

  /** Closes the connection with an error: close is sent, the client's close awaited briefly. */
  closeWith(condition: string, description: string): void {
    if (this.state === "closed" || this.state === "closing") return;
    if (this.state !== "opened") {
      // Before open, close follows our own open (part 2 §2.4.1).
      if (this.state === "open") this.sendOpen();
    }
    this.sendFrame(FRAME_AMQP, 0, P.close, [errorValue(condition, description)]);
    this.state = "closing";
    for (const s of this.sessions.values()) s.release();
    this.sessions.clear();
    const t = setTimeout(() => this.destroy(), 2000);
    t.unref();
  }

  private fail(err: unknown): void {
    if (err instanceof Amqp10Error) {
      this.log.debug("amqp10: protocol error", { id: this.id, condition: err.condition, error: err.message });
      this.closeWith(err.condition, err.message);
      return;
    }
    this.log.error("amqp10: internal error", { id: this.id, error: String(err) });
    this.closeWith(Cond.internalError, "internal error");
  }

  // ---- sessions ------------------------------------------------------------------------------

  private onBegin(channel: number, f: AmqpValue[]): void {
    if (channel > this.options.channelMax) {
      throw new Amqp10Error(
        Cond.notAllowed,
        `channel ${channel} above channel-max ${this.options.channelMax}`,
      );
    }
    if (this.sessions.has(channel))
      throw new Amqp10Error(Cond.notAllowed, `channel ${channel} is already in use`);
    if (f[0] !== undefined && f[0].type !== "null") {
      throw new Amqp10Error(Cond.notAllowed, "begin with remote-channel: the broker does not begin sessions");
    }
    const s = new Amqp10Session(this, channel, f);
    this.sessions.set(channel, s);
    s.sendBegin();
  }

  sessionEnded(s: Amqp10Session): void {
    if (this.sessions.get(s.channel) === s) this.sessions.delete(s.channel);
  }

  // ---- output --------------------------------------------------------------------------------

  sendFrame(type: number, channel: number, code: number, fields: AmqpValue[], payload?: Buffer): void {
    this.write(encodeFrame(type, channel, code, fields, payload));
  }

  write(b: Buffer): void {
    if (this.state === "closed") return;
    this.lastSent = Date.now();
    if (
      !this.stream.write(b) &&
      this.stream.writableLength > this.options.maxBufferedBytes &&
      !this.congested
    ) {
      this.congested = true;
    }
  }

  private onDrain(): void {
    if (!this.congested) return;
    this.congested = false;
    this.stream.cork();
    try {
      for (const s of this.sessions.values()) s.resumeSending();
    } finally {
      this.stream.uncork();
    }
  }

  /** The memory alarm cleared: receiving links top up their credit. */
  replenish(): void {
    for (const s of this.sessions.values()) {
      s.topUpCredit();
      s.flush();
    }
  }

  get isProcessing(): boolean {
    return this.processing;
  }

  // ---- SessionConnection (router) -------------------------------------------------------------

  deliver(_message: Message, _qos: QoS, _retain: boolean, _sub: Subscription | undefined): void {
    // Topic subscriptions of AMQP 1.0 links go through their own feeds (links.ts), not this session.
  }

  drain(): void {}

  close(reason: CloseReason): void {
    const why = reason === "shutdown" ? "broker shutting down" : `connection closed (${reason})`;
    this.closeWith(Cond.connectionForced, why);
  }

  destroy(): void {
    this.state = "closed";
    this.stream.destroy();
    this.cleanup();
  }

  private cleaned = false;

  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    this.state = "closed";
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    for (const s of this.sessions.values()) s.release();
    this.sessions.clear();
    this.rpc?.leave();
    this.adapter.closed(this);
  }
}

function splitNul(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(b.subarray(start));
  return out;
}
