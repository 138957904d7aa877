/**
 * One MQTT network connection: the state machine that maps packets to core calls. The packet
 * handlers live in handlers/ (one per inbound packet type); outgoing delivery in outgoing.ts.
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
import { ARENA_MAX_COPY, OutputArena } from "../../transports/output-arena.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { encode, MqttCodecError, MqttDecoder } from "./codec/index.js";
import type { DisconnectPacket, Packet, Properties, ProtocolVersion } from "./codec/packets.js";
import { ConnectReturnCode, ReasonCode } from "./codec/packets.js";
import { handleAuth } from "./handlers/auth.js";
import { handleConnect } from "./handlers/connect.js";
import { handleDisconnect } from "./handlers/disconnect.js";
import { handlePuback, handlePubcomp, handlePubrec } from "./handlers/outgoing-acks.js";
import { handlePublish } from "./handlers/publish.js";
import { handlePubrel } from "./handlers/pubrel.js";
import { handleSubscribe } from "./handlers/subscribe.js";
import { handleUnsubscribe } from "./handlers/unsubscribe.js";
import type { MqttOptions } from "./options.js";
import { deliver, pump } from "./outgoing.js";

/**
 * An ack waiting for the store commit: a packet, or (the common case) a packet-id-only ack as the
 * number (first byte << 16 | packet id), written 4 bytes each into one buffer at the commit.
 */
/** An ack packet, a packet-id-only ack (byte 1 << 16 | packet id), or bytes held by holdWrites(). */
type PendingAck = Packet | number | Buffer;
/** The empty pendingAcks (never pushed to), so an idle connection holds no array of its own. */
const NO_PACKETS: PendingAck[] = [];
const PUBREC_BYTE1 = 0x50;
/** Starts a hold (holdWrites) without writing anything. */
const EMPTY = Buffer.alloc(0);
/**
 * A long burst in one tick (a window of queued messages refilled by a read full of PUBACKs) sends
 * its first this many packets early, once per tick, so the client starts acknowledging while the
 * rest is produced instead of the two sides taking turns. bench:durable drain: +8% (0.66x -> 0.72x).
 */
const EARLY_FLUSH_AFTER = 32;
const EARLY_FLUSH_MAX_BYTES = 64 * 1024;

type State = "awaiting-connect" | "connecting" | "connected" | "closed";

const CLOSE_REASON_CODES: Record<CloseReason, number> = {
  "taken-over": ReasonCode.SessionTakenOver,
  shutdown: ReasonCode.ServerShuttingDown,
  "session-expired": ReasonCode.AdministrativeAction,
  administrative: ReasonCode.AdministrativeAction,
};

export class MqttConnection implements SessionConnection {
  state: State = "awaiting-connect";
  version: ProtocolVersion = 4;
  session: Session | undefined;
  principal: Principal | undefined;
  info: ConnectionInfo;
  will: { message: Message; delaySeconds: number } | undefined;
  readonly decoder: MqttDecoder;

  // Limits the client announced in its CONNECT (v5), defaults otherwise.
  clientReceiveMaximum = 65535;
  clientMaxPacketSize = 0; // 0 = no limit announced
  clientTopicAliasMaximum = 0;
  requestProblemInformation = true;
  /**
   * True when a subscription of this client is only partly allowed by the ACL: every message is
   * then checked against it before it is sent (the per-message read check).
   */
  readChecked = false;
  /** This client as an RPC caller and callee (rpc.ts), from its first call or registration. */
  rpc: RpcBridge | undefined;
  /** Registering filters (`$rpc/<procedure>`) -> registration id. */
  rpcRegistrations: Map<string, number> | undefined;

  private inAliases: Map<number, string> | undefined;
  private outAliases: Map<string, number> | undefined;

  /** v5 topic aliases the client set for its publishes (alias -> topic). Created on first use. */
  get inboundAliases(): Map<number, string> {
    if (this.inAliases === undefined) this.inAliases = new Map();
    return this.inAliases;
  }

  /** Topic aliases we assigned towards the client (topic -> alias). Created on first use. */
  get outboundAliases(): Map<string, number> {
    if (this.outAliases === undefined) this.outAliases = new Map();
    return this.outAliases;
  }

  /** Enhanced authentication in progress (v5 AUTH), if any. */
  authExchange: { method: string; state: unknown } | undefined;
  authMethod: string | undefined;
  /** Authentication data for the CONNACK that ends a successful AUTH exchange. */
  authFinalData: Buffer | undefined;

  /** QoS 1/2 acks waiting for the store commit that makes their message durable. */
  private pendingAcks: PendingAck[] = NO_PACKETS;
  /** PUBRECs among pendingAcks: their publishes are already counted in session.incomingQos2. */
  private pendingPubrecs = 0;
  private commitScheduled = false;
  /** Writes wait in pendingAcks for the next commit (holdWrites), keeping their order. */
  private holding = false;
  /** Held bytes among pendingAcks: not exchanges waiting for an ack. */
  private pendingHeld = 0;
  /** Packets that arrived while CONNECT was being authenticated. */
  private backlog: Packet[] | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private corked = false;
  /** Small QoS 1/2 copies of a busy tick (writePublishCopy); none while the connection is quiet. */
  private arena: OutputArena | undefined;
  /** Writes since this tick's cork (see EARLY_FLUSH_AFTER). */
  private corkedWrites = 0;

  constructor(
    readonly router: Router,
    readonly options: MqttOptions,
    readonly stream: ByteStream,
    readonly transport: TransportInfo,
    readonly log: Logger,
    readonly transportName: string,
    /** Called once when the stream has closed (the adapter's bookkeeping). */
    private readonly onClosed?: (c: MqttConnection) => void,
  ) {
    this.decoder = new MqttDecoder({ maxPacketSize: options.maxPacketSize });
    this.info = {
      protocol: "mqtt",
      protocolVersion: "",
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      transport: transportName,
      connectedAt: Date.now(),
    };
    this.connectTimer = setTimeout(onConnectTimeout, options.connectTimeoutMs, this);
    // Shared listeners (no closures per connection): they find the connection on the stream.
    (stream as OwnedStream)[OWNER] = this;
    stream.on("data", onStreamData);
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    stream.on("drain", onStreamDrain);
  }

  // ---- input ----------------------------------------------------------------------------------

  /** @internal Called by the shared 'data' listener. */
  onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.router.stats.bytesReceived += chunk.length;
    this.keepAliveTimer?.refresh();
    this.cork();
    try {
      this.decoder.push(chunk, (p) => this.onPacket(p));
    } catch (err) {
      this.onProtocolError(err);
    }
  }

  private onPacket(p: Packet): void {
    if (this.state === "closed") return;
    if (this.backlog) {
      // Packets may follow CONNECT before CONNACK; they are handled once the session exists.
      this.backlog.push(p);
      return;
    }
    if (this.state === "awaiting-connect") {
      if (p.cmd !== "connect") {
        // The first packet must be CONNECT [MQTT-3.1.0-1].
        this.log.debug("mqtt: first packet is not CONNECT", { cmd: p.cmd });
        this.destroy();
        return;
      }
      this.state = "connecting";
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.backlog = [];
      handleConnect(this, p).catch((err) => this.onProtocolError(err));
      return;
    }
    this.dispatch(p);
  }

  /** Called by the CONNECT handler once CONNACK is sent (or the connection refused). */
  connectDone(): void {
    const queued = this.backlog;
    this.backlog = undefined;
    if (!queued || this.state !== "connected") return;
    this.cork();
    for (const p of queued) {
      if (this.state !== "connected") break;
      try {
        this.dispatch(p);
      } catch (err) {
        this.onProtocolError(err);
      }
    }
  }

  private dispatch(p: Packet): void {
    if (this.state !== "connected" && p.cmd !== "auth") {
      // During an AUTH exchange only AUTH may come before CONNACK ([MQTT-4.12.0-?], §4.12).
      this.protocolError(ReasonCode.ProtocolError, `${p.cmd} before authentication completed`);
      return;
    }
    switch (p.cmd) {
      case "publish":
        this.router.stats.messagesReceived++;
        this.session!.messagesIn++;
        handlePublish(this, p);
        return;
      case "puback":
        handlePuback(this, p);
        return;
      case "pubrec":
        handlePubrec(this, p);
        return;
      case "pubrel":
        handlePubrel(this, p);
        return;
      case "pubcomp":
        handlePubcomp(this, p);
        return;
      case "subscribe":
        handleSubscribe(this, p);
        return;
      case "unsubscribe":
        handleUnsubscribe(this, p);
        return;
      case "pingreq":
        this.send({ cmd: "pingresp" });
        return;
      case "disconnect":
        handleDisconnect(this, p);
        return;
      case "auth":
        handleAuth(this, p).catch((err) => this.onProtocolError(err));
        return;
      case "connect":
        // A second CONNECT is a protocol error [MQTT-3.1.0-2].
        this.protocolError(ReasonCode.ProtocolError, "second CONNECT");
        return;
      default:
        // Server-to-client packets (CONNACK, SUBACK, ...) are not valid from a client.
        this.protocolError(ReasonCode.ProtocolError, `unexpected ${p.cmd}`);
    }
  }

  private onProtocolError(err: unknown): void {
    if (err instanceof MqttCodecError) {
      if (this.state === "awaiting-connect") {
        // [MQTT-3.1.2-2] A protocol level we do not speak: CONNACK 0x01 in the 3.1.1 format, then close.
        if (err.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
          this.send({
            cmd: "connack",
            sessionPresent: false,
            reasonCode: ConnectReturnCode.UnacceptableProtocolVersion,
          });
          this.end();
          return;
        }
        // A bad CONNECT whose level was read is answered in that version: v5 gets CONNACK (§4.13.1).
        if (err.connectVersion !== undefined) this.version = this.decoder.version = err.connectVersion;
      }
      this.protocolError(err.reasonCode, err.message);
      return;
    }
    this.log.error("mqtt: internal error", {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    this.protocolError(ReasonCode.ImplementationSpecificError, "internal error");
  }

  /**
   * Ends the connection because of the client: v5 clients get a DISCONNECT (or a CONNACK before
   * the session exists) with the reason code first ([MQTT-4.13.1-1]); v3 clients are just closed.
   */
  protocolError(reasonCode: number, reason: string): void {
    if (this.state === "closed") return;
    this.log.debug("mqtt: closing connection", { reasonCode, reason, clientId: this.session?.clientId });
    if (this.version === 5) {
      if (this.state === "connected") {
        this.send({ cmd: "disconnect", reasonCode, properties: this.reasonString(reason, true) });
      } else if (this.state === "connecting" || this.decoder.version === 5) {
        this.send({
          cmd: "connack",
          sessionPresent: false,
          reasonCode,
          properties: { reasonString: reason },
        });
      }
    }
    this.end();
  }

  /** Reason string property, when the client did not ask us to leave them out ([MQTT-3.1.2-29]). */
  reasonString(reason: string | undefined, always = false): Properties | undefined {
    if (!reason || (!always && !this.requestProblemInformation)) return undefined;
    return { reasonString: reason };
  }

  // ---- output ---------------------------------------------------------------------------------

  /**
   * Corks the stream until the end of this tick so all packets of the tick go out in one write (two
   * for a long burst: EARLY_FLUSH_AFTER).
   */
  cork(): void {
    if (this.corked) {
      // Only for small packets: a burst of large ones is already written in large pieces.
      if (++this.corkedWrites === EARLY_FLUSH_AFTER && this.stream.writableLength < EARLY_FLUSH_MAX_BYTES) {
        this.flushArena();
        this.stream.uncork();
        this.stream.cork();
      }
      return;
    }
    this.corked = true;
    this.corkedWrites = 0;
    this.stream.cork();
    process.nextTick(() => {
      this.corked = false;
      this.flushArena();
      // One write this tick: a quiet connection holds no arena.
      if (this.corkedWrites === 0) this.arena = undefined;
      this.stream.uncork();
    });
  }

  /**
   * Sends a copy of the QoS 1/2 PUBLISH `template` with its first byte and packet id set. A small
   * one is copied into the output arena, a buffer the tick's copies share, so a burst of deliveries
   * (a session's queue draining) costs no Buffer per packet and reaches the socket as one chunk.
   */
  writePublishCopy(template: Buffer, byte0: number, idAt: number, packetId: number): void {
    if (this.state === "closed") return;
    const n = template.length;
    // The first copy of a tick, with no arena, gets a pooled Buffer of its own.
    if (
      this.holding ||
      n > ARENA_MAX_COPY ||
      (this.arena === undefined && this.corkedWrites === 0 && !this.corked)
    ) {
      const buf = Buffer.allocUnsafe(n);
      buf.set(template);
      buf[0] = byte0;
      buf[idAt] = packetId >>> 8;
      buf[idAt + 1] = packetId & 0xff;
      this.writePackets(buf);
      return;
    }
    this.cork();
    let a = this.arena;
    if (a === undefined || !a.room(n)) {
      this.flushArena();
      a = this.arena = new OutputArena();
    }
    const at = a.offset;
    const b = a.buf;
    b.set(template, at);
    b[at] = byte0;
    b[at + idAt] = packetId >>> 8;
    b[at + idAt + 1] = packetId & 0xff;
    a.appended(n);
    this.router.stats.bytesSent += n;
  }

  /** Hands the arena's unsent bytes to the stream (before any other write, so order is kept). */
  private flushArena(): void {
    const chunk = this.arena?.take();
    if (chunk !== undefined && this.state !== "closed") this.stream.write(chunk);
  }

  send(p: Packet): void {
    this.write(encode(p, this.version));
  }

  write(buf: Buffer): boolean {
    if (this.state === "closed") return false;
    // Never exceed the client's Maximum Packet Size ([MQTT-3.1.2-24]); callers that can shorten
    // a packet (drop a reason string) check before; anything else is discarded here.
    if (this.clientMaxPacketSize > 0 && buf.length > this.clientMaxPacketSize) return false;
    return this.writePackets(buf);
  }

  /**
   * Holds every write from now until the store has committed what was written so far: a QoS 2
   * PUBLISH to a persistent session must not reach the client before its packet id is durable, or
   * after a crash it would go out again under another id and be received twice. Later writes wait
   * too, so the client still sees packets in order (a topic alias set by a held packet, say).
   */
  holdWrites(): void {
    if (this.holding) return;
    this.holding = true;
    this.pendingHeld++;
    this.queueAck(EMPTY);
  }

  /** write() for bytes holding several packets, each already known to fit the client's limit. */
  private writePackets(buf: Buffer): boolean {
    if (this.state === "closed") return false;
    if (this.holding) {
      this.pendingAcks.push(buf);
      this.pendingHeld++;
      return true;
    }
    this.cork();
    this.flushArena();
    this.router.stats.bytesSent += buf.length;
    return this.stream.write(buf);
  }

  /** Sends an ack after the store has committed what it acknowledges (group commit). */
  ackAfterCommit(p: Packet): void {
    if (p.cmd === "pubrec") this.pendingPubrecs++;
    this.queueAck(p);
  }

  /**
   * ackAfterCommit for an ack that is only a packet id (PUBACK 0x40, PUBREC 0x50, PUBCOMP 0x70 in
   * v3/v4, or v5 with reason Success and no properties): no packet object, no buffer of its own.
   */
  ackIdAfterCommit(byte1: number, packetId: number): void {
    if (byte1 === PUBREC_BYTE1) this.pendingPubrecs++;
    this.queueAck((byte1 << 16) | packetId);
  }

  private queueAck(a: PendingAck): void {
    if (this.pendingAcks === NO_PACKETS) this.pendingAcks = [];
    this.pendingAcks.push(a);
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    this.router.store.commit().then(
      () => {
        this.commitScheduled = false;
        this.holding = false;
        const acks = this.pendingAcks;
        this.pendingAcks = NO_PACKETS;
        this.pendingPubrecs = 0;
        this.pendingHeld = 0;
        this.flushAcks(acks);
      },
      (err: unknown) => {
        this.commitScheduled = false;
        this.holding = false;
        this.log.error("mqtt: store commit failed; closing without acknowledging", { error: String(err) });
        this.pendingAcks = NO_PACKETS;
        this.pendingPubrecs = 0;
        this.pendingHeld = 0;
        this.protocolError(ReasonCode.UnspecifiedError, "store failure");
      },
    );
  }

  /** Sends committed acks in order; runs of packet-id-only acks go out as one buffer. */
  private flushAcks(acks: PendingAck[]): void {
    // A client whose Maximum Packet Size is under 4 bytes gets each ack checked on its own.
    const batch = this.clientMaxPacketSize === 0 || this.clientMaxPacketSize >= 4;
    let i = 0;
    while (i < acks.length) {
      const a = acks[i]!;
      if (Buffer.isBuffer(a)) {
        if (a.length > 0) this.writePackets(a);
        i++;
        continue;
      }
      if (typeof a !== "number") {
        this.send(a);
        i++;
        continue;
      }
      let j = i + 1;
      if (batch) while (j < acks.length && typeof acks[j] === "number") j++;
      const buf = Buffer.allocUnsafe((j - i) * 4);
      for (let k = i, at = 0; k < j; k++, at += 4) {
        const v = acks[k] as number;
        buf[at] = v >>> 16;
        buf[at + 1] = 2;
        buf[at + 2] = (v >>> 8) & 0xff;
        buf[at + 3] = v & 0xff;
      }
      if (batch) this.writePackets(buf);
      else this.write(buf);
      i = j;
    }
  }

  /** QoS 1/2 exchanges waiting for an ack to go out, not counting those in session.incomingQos2. */
  get pendingAckCount(): number {
    return this.pendingAcks.length - this.pendingPubrecs - this.pendingHeld;
  }

  // ---- SessionConnection ----------------------------------------------------------------------

  deliver(message: Message, qos: QoS, retain: boolean, sub: Subscription | undefined): void {
    deliver(this, message, qos, retain, sub);
  }

  drain(): void {
    pump(this);
  }

  close(reason: CloseReason): void {
    if (this.state === "closed") return;
    // A broker shutting down is not the client failing: its will is not published.
    if (reason === "shutdown") this.will = undefined;
    if (this.version === 5 && this.state === "connected") {
      this.send({ cmd: "disconnect", reasonCode: CLOSE_REASON_CODES[reason] } satisfies DisconnectPacket);
    }
    this.end();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  startKeepAlive(seconds: number): void {
    if (seconds <= 0) return;
    // The server allows one and a half keep alive periods of silence [MQTT-3.1.2-24 / 3.1.2-22].
    this.keepAliveTimer = setTimeout(onKeepAliveTimeout, seconds * 1500, this);
  }

  /** Graceful close: flush what was written, then close. */
  end(): void {
    if (this.state === "closed") return;
    this.flushArena();
    this.finish();
    this.stream.end();
    // A peer that never reads must not keep the socket open forever. Cleared on close, so the
    // timer does not keep a closed connection (and its session) alive for 2 s.
    this.endTimer = setTimeout(destroyStream, 2000, this.stream);
    this.endTimer.unref();
  }

  destroy(): void {
    if (this.state !== "closed") this.finish();
    this.stream.destroy();
  }

  private finish(): void {
    const wasConnected = this.state === "connected";
    this.state = "closed";
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    this.backlog = undefined;
    // Registrations go; calls pending on this callee end with an error for their callers.
    this.rpc?.leave();
    this.rpc = undefined;
    this.rpcRegistrations = undefined;
    if (wasConnected && this.session) {
      const will = this.will;
      this.will = undefined;
      this.router.detach(this.session, this, will);
    }
  }

  /** @internal Called by the shared 'close' listener. */
  onClose(): void {
    if (this.state !== "closed") this.finish();
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.onClosed?.(this);
  }
}

/** The stream property that points back to its connection, for the shared listeners below. */
const OWNER = Symbol("mqttConnection");
type OwnedStream = ByteStream & { [OWNER]: MqttConnection };

function onStreamData(this: ByteStream, chunk: Buffer): void {
  (this as OwnedStream)[OWNER].onData(chunk);
}

function onStreamError(this: ByteStream, err: Error): void {
  (this as OwnedStream)[OWNER].log.debug("mqtt: socket error", { error: err.message });
}

function onStreamClose(this: ByteStream): void {
  (this as OwnedStream)[OWNER].onClose();
}

function onStreamDrain(this: ByteStream): void {
  const c = (this as OwnedStream)[OWNER];
  if (c.session) pump(c);
}

function onKeepAliveTimeout(c: MqttConnection): void {
  c.log.debug("mqtt: keep alive timeout", { clientId: c.session?.clientId });
  if (c.version === 5) c.send({ cmd: "disconnect", reasonCode: ReasonCode.KeepAliveTimeout });
  c.end();
}

function destroyStream(stream: ByteStream): void {
  stream.destroy();
}

function onConnectTimeout(c: MqttConnection): void {
  c.log.debug("mqtt: no CONNECT in time", { remote: c.transport.remoteAddress });
  c.destroy();
}
