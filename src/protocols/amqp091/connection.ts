/**
 * One AMQP 0-9-1 connection (§2.2.4 and amqp0-9-1.xml class connection): frames in, the handshake
 * (start / start-ok with SASL, tune / tune-ok, open), channels, heartbeats, blocking, close in both
 * directions, and batched output. Channel methods are handled by channel.ts and handlers/.
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
import type { Amqp091Adapter } from "./adapter.js";
import { Channel } from "./channel.js";
import {
  AmqpError,
  decodeMethod,
  encodeMethod,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
  type Frame,
  FrameDecoder,
  HEARTBEAT_FRAME,
  type Method,
  ReplyCode,
} from "./codec/index.js";
import { handleHandshake, sendStart } from "./handlers/handshake.js";
import type { Amqp091Options } from "./options.js";
import type { Vhost } from "./vhost.js";

type State = "start" | "secure" | "tune" | "open" | "opened" | "closing" | "closed";

let connectionCounter = 0;

export class Amqp091Connection implements SessionConnection {
  state: State = "start";
  readonly id: string;
  readonly info: ConnectionInfo;
  principal: Principal | undefined;
  session: Session | undefined;
  /** The virtual host opened by connection.open. */
  vhostState: Vhost | undefined;
  channelMax: number;
  frameMax: number = FRAME_MIN_SIZE;
  heartbeat = 0;
  /** Client capabilities from start-ok (connection.blocked, consumer_cancel_notify...). */
  capabilities: Record<string, unknown> = {};
  readonly channels = new Map<number, Channel>();
  readonly decoder: FrameDecoder;
  /** Routed RPC calls made from this connection (handlers/rpc.ts), created on the first one. */
  rpc: RpcBridge | undefined;
  /** Publishing connections are the ones paused while the broker is blocked. */
  hasPublished = false;
  blocked = false;
  private corked = false;
  private wroteSinceBeat = false;
  private lastReceived = Date.now();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Our consumers are paused because the socket buffer is over its bound. */
  backpressured = false;

  constructor(
    readonly adapter: Amqp091Adapter,
    readonly stream: ByteStream,
    readonly transport: TransportInfo,
  ) {
    this.id = `amqp091-${++connectionCounter}-${transport.remotePort}`;
    this.channelMax = this.options.channelMax;
    this.decoder = new FrameDecoder(FRAME_MIN_SIZE);
    this.info = {
      protocol: "amqp091",
      protocolVersion: "0-9-1",
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      transport: transport.kind,
      connectedAt: Date.now(),
    };
    this.handshakeTimer = setTimeout(() => this.destroy(), this.options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    stream.on("close", () => this.onClosed());
    stream.on("drain", () => this.onDrain());
    sendStart(this);
  }

  /** The opened vhost (channels exist only after connection.open). */
  get vh(): Vhost {
    if (!this.vhostState) throw new Error("no virtual host opened");
    return this.vhostState;
  }

  get router(): Router {
    return this.adapter.router;
  }

  get options(): Amqp091Options {
    return this.adapter.options;
  }

  get log(): Logger {
    return this.adapter.log;
  }

  // ---- input ----------------------------------------------------------------------------------

  /** Bytes after the protocol header (the listener's sniffer consumed it). */
  readonly onData = (chunk: Buffer): void => {
    if (this.state === "closed") return;
    this.router.stats.bytesReceived += chunk.length;
    this.lastReceived = Date.now();
    this.cork();
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (err) {
      this.fail(err);
    }
  };

  private readonly onFrame = (f: Frame): void => {
    if (this.state === "closed") return;
    if (f.type === FRAME_HEARTBEAT) {
      if (f.channel !== 0) throw new AmqpError(ReplyCode.FrameError, "heartbeat frame on a non-zero channel");
      return;
    }
    if (this.state === "closing") {
      // After our connection.close only close / close-ok count (§2.2.4: discard everything else).
      if (f.type === FRAME_METHOD && f.channel === 0) {
        const m = decodeMethod(f.payload);
        if (m.name === "connection.close-ok") this.end();
        else if (m.name === "connection.close") {
          this.write(encodeMethod(0, "connection.close-ok"));
          this.end();
        }
      }
      return;
    }
    if (f.channel === 0) {
      if (f.type !== FRAME_METHOD)
        throw new AmqpError(ReplyCode.UnexpectedFrame, "content frame on channel 0");
      this.onConnectionMethod(decodeMethod(f.payload));
      return;
    }
    if (this.state !== "opened")
      throw new AmqpError(ReplyCode.UnexpectedFrame, "channel frame before connection.open");
    let ch = this.channels.get(f.channel);
    if (!ch) {
      if (f.type !== FRAME_METHOD)
        throw new AmqpError(ReplyCode.ChannelError, `channel ${f.channel} is not open`);
      const m = decodeMethod(f.payload);
      if (m.name !== "channel.open") {
        throw new AmqpError(
          ReplyCode.ChannelError,
          `expected 'channel.open' on channel ${f.channel}, got '${m.name}'`,
          m.classId,
          m.methodId,
        );
      }
      if (f.channel > this.channelMax) {
        throw new AmqpError(
          ReplyCode.ChannelError,
          `channel ${f.channel} above channel-max ${this.channelMax}`,
          m.classId,
          m.methodId,
        );
      }
      ch = new Channel(this, f.channel);
      this.channels.set(f.channel, ch);
      this.write(encodeMethod(f.channel, "channel.open-ok"));
      return;
    }
    ch.onFrame(f);
  };

  private onConnectionMethod(m: Method): void {
    if (this.state !== "opened") {
      handleHandshake(this, m);
      return;
    }
    switch (m.name) {
      case "connection.close":
        this.write(encodeMethod(0, "connection.close-ok"));
        this.end();
        return;
      case "connection.close-ok":
        this.end();
        return;
      case "connection.update-secret":
        // Our credentials do not expire: accept, as RabbitMQ does for non-expiring ones.
        this.write(encodeMethod(0, "connection.update-secret-ok"));
        return;
      default:
        throw new AmqpError(
          ReplyCode.CommandInvalid,
          `unexpected '${m.name}' on channel 0`,
          m.classId,
          m.methodId,
        );
    }
  }

  /** The handshake finished (connection.open-ok sent). */
  opened(): void {
    this.state = "opened";
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.decoder.maxFrameSize = this.frameMax;
    if (this.heartbeat > 0) {
      // Send a heartbeat when nothing else went out for half the interval; give up on a client
      // silent for two intervals (§4.2.7).
      const ms = (this.heartbeat * 1000) / 2;
      this.heartbeatTimer = setInterval(() => this.beat(), ms);
      this.heartbeatTimer.unref();
    }
    this.adapter.opened(this);
  }

  private beat(): void {
    if (Date.now() - this.lastReceived > this.heartbeat * 2000) {
      this.log.debug("amqp091: missed heartbeats, closing", { id: this.id });
      this.destroy();
      return;
    }
    if (!this.wroteSinceBeat) this.stream.write(HEARTBEAT_FRAME);
    this.wroteSinceBeat = false;
  }

  // ---- errors and close ------------------------------------------------------------------------

  /** An error from any frame: channel errors close the channel, the rest the connection. */
  fail(err: unknown, channel?: Channel): void {
    if (!(err instanceof AmqpError)) {
      this.log.error("amqp091: internal error", {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      this.closeWith(new AmqpError(ReplyCode.InternalError, "internal error"));
      return;
    }
    if (!err.connectionLevel && channel) {
      channel.closeWith(err);
      return;
    }
    this.closeWith(err);
  }

  /** Server-initiated connection.close (§2.2.4): wait for close-ok, then end the socket. */
  closeWith(err: AmqpError): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.log.debug("amqp091: closing connection", { id: this.id, code: err.code, text: err.message });
    const beforeOpen = this.state !== "opened";
    this.state = "closing";
    this.write(
      encodeMethod(0, "connection.close", {
        replyCode: err.code,
        replyText: err.replyText,
        classId: err.classId,
        methodId: err.methodId,
      }),
    );
    this.shutdownChannels();
    if (beforeOpen) {
      this.end();
      return;
    }
    this.closeTimer = setTimeout(() => this.destroy(), 2000);
    this.closeTimer.unref();
  }

  /** SessionConnection.close: the router shuts down or takes the connection over. */
  close(reason: CloseReason): void {
    this.closeWith(
      new AmqpError(
        ReplyCode.ConnectionForced,
        reason === "shutdown" ? "broker shutdown" : `closed: ${reason}`,
      ),
    );
  }

  /** Graceful end after pending writes. */
  end(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.shutdownChannels();
    this.stream.end();
  }

  destroy(): void {
    if (this.state !== "closed") {
      this.state = "closed";
      this.shutdownChannels();
    }
    this.stream.destroy();
  }

  private shutdownChannels(): void {
    for (const ch of this.channels.values()) ch.shutdown();
    this.channels.clear();
  }

  private onClosed(): void {
    this.state = "closed";
    this.shutdownChannels();
    this.rpc?.leave();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.adapter.closed(this);
  }

  // ---- output ---------------------------------------------------------------------------------

  /** Corks the stream until the end of this tick so every frame of the tick goes out in one write. */
  cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    process.nextTick(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };

  write(bytes: Buffer): void {
    if (this.state === "closed") return;
    this.cork();
    this.wroteSinceBeat = true;
    this.router.stats.bytesSent += bytes.length;
    this.stream.write(bytes);
    if (!this.backpressured && this.stream.writableLength > this.options.maxBufferedBytes) {
      this.backpressured = true;
      for (const ch of this.channels.values()) ch.updateFlow();
    }
  }

  private onDrain(): void {
    if (!this.backpressured) return;
    this.backpressured = false;
    for (const ch of this.channels.values()) ch.updateFlow();
  }

  /** Broker-wide resource alarm (adapter.ts): blocked/unblocked to clients that asked for it. */
  setBlocked(blocked: boolean, reason: string): void {
    if (this.state !== "opened" || this.blocked === blocked) return;
    this.blocked = blocked;
    if (this.capabilities["connection.blocked"] === true) {
      this.write(
        blocked ? encodeMethod(0, "connection.blocked", { reason }) : encodeMethod(0, "connection.unblocked"),
      );
    }
    // Like RabbitMQ, only connections that publish stop being read.
    if (!this.hasPublished) return;
    if (blocked) this.stream.pause();
    else this.stream.resume();
  }

  // ---- SessionConnection (presence and shutdown; deliveries go through queues) -----------------

  deliver(_message: Message, _qos: QoS, _retain: boolean, _sub: Subscription | undefined): void {}
  drain(): void {}
}
