/**
 * Protocol-independent client state (DESIGN.md "Session"): identity, subscriptions, the queue of
 * messages waiting for the client, the messages in flight to it, and its expiry. The adapter owns
 * the wire; the session owns what survives the wire.
 */
import { Fifo } from "./fifo.js";
import type { Message, QoS } from "./message.js";
import { type CompiledSelector, compileSelector } from "./selector/compile.js";

export interface SubscriptionOptions {
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId?: number;
  /** Content filter (docs/filters.md); the adapter has compiled it once to refuse a bad one. */
  selector?: string;
}

/** One subscription of one session; a value in the TopicTree (or a member of a ShareGroup). */
export class Subscription {
  readonly isGroup = false;
  /**
   * The compiled options.selector; undefined (the common case) when the subscription has none.
   * Change both through setOptions.
   */
  selector: CompiledSelector | undefined;
  constructor(
    readonly session: Session,
    /** The filter as the client wrote it, "$share/g/" prefix included: the session's key. */
    readonly filter: string,
    /** The filter that is matched against topics (without the share prefix). */
    readonly topicFilter: string,
    public options: SubscriptionOptions,
    readonly group?: string,
  ) {
    this.selector = compiledOf(options);
  }

  setOptions(o: SubscriptionOptions): void {
    this.options = o;
    this.selector = compiledOf(o);
  }
}

function compiledOf(o: SubscriptionOptions): CompiledSelector | undefined {
  return o.selector === undefined ? undefined : compileSelector(o.selector);
}

/** A message on its way to one session: queued, or in flight under a packet id. */
export interface Delivery {
  seq: number;
  message: Message;
  qos: QoS;
  retain: boolean;
  subscriptionId?: number;
  packetId?: number;
  state: "queued" | "publish" | "pubrel";
}

export type CloseReason = "taken-over" | "shutdown" | "session-expired" | "administrative";

export interface ConnectionInfo {
  protocol: string;
  protocolVersion: string;
  remoteAddress: string;
  remotePort: number;
  transport: string;
  username?: string;
  /** Identity and role as the protocol names them (WAMP authid/authrole/authmethod), when it does. */
  authId?: string;
  authRole?: string;
  authMethod?: string;
  connectedAt: number;
}

/** What the router needs from a live connection; implemented by each protocol adapter. */
export interface SessionConnection {
  readonly info: ConnectionInfo;
  /**
   * Hand one message to the client. Called synchronously on the publish path: the adapter encodes
   * and writes, or, when its in-flight window is full, leaves it in session.queue.
   */
  deliver(message: Message, qos: QoS, retain: boolean, sub: Subscription | undefined): void;
  /** Called when queued messages may be sent (the session was resumed, or the group has backlog). */
  drain(): void;
  /** Server-initiated close with a reason the adapter maps to its protocol. */
  close(reason: CloseReason): void;
}

export class Session {
  // The collections are created on first use: most connections of a busy broker never subscribe,
  // queue or have anything in flight, and an empty Map/Set still costs ~180 bytes.
  private subs: Map<string, Subscription> | undefined;
  private fifo: Fifo<Delivery> | undefined;
  private inflightMap: Map<number, Delivery> | undefined;
  private qos2In: Set<number> | undefined;
  /** Payload bytes in `queue`, for the per-session byte bound. */
  queuedBytes = 0;
  /**
   * The id of the current connection's session, random in [1, 2^53] (WAMP §2.1.2 global scope),
   * assigned by Router.attach for every protocol: the session meta API lists all of them.
   */
  id = 0;
  connection: SessionConnection | undefined;
  /** Seconds the session outlives its connection; 0 = ends with it; 0xFFFFFFFF = never. */
  expiryInterval = 0;
  disconnectedAt: number | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Messages dropped because the queue was full (reported in $SYS and presence). */
  dropped = 0;
  /** Messages this client published and messages delivered to it (the device directory). */
  messagesIn = 0;
  messagesOut = 0;
  private lastPacketId = 0;

  constructor(
    readonly clientId: string,
    readonly protocol: string,
  ) {}

  get subscriptions(): Map<string, Subscription> {
    if (this.subs === undefined) this.subs = new Map();
    return this.subs;
  }

  /** Waiting to be sent, oldest first. Change it through pushQueued/shiftQueued (bytes are counted). */
  get queue(): Fifo<Delivery> {
    if (this.fifo === undefined) this.fifo = new Fifo();
    return this.fifo;
  }

  /** Sent and not yet completed, by packet id (MQTT) / delivery id. */
  get inflight(): Map<number, Delivery> {
    if (this.inflightMap === undefined) this.inflightMap = new Map();
    return this.inflightMap;
  }

  /** Incoming QoS 2 packet ids received and not yet released ([MQTT-4.3.3-?] exactly once). */
  get incomingQos2(): Set<number> {
    if (this.qos2In === undefined) this.qos2In = new Set();
    return this.qos2In;
  }

  pushQueued(d: Delivery): void {
    this.queue.push(d);
    this.queuedBytes += d.message.payload.length;
  }

  shiftQueued(): Delivery | undefined {
    const d = this.queue.shift();
    if (d) this.queuedBytes -= d.message.payload.length;
    return d;
  }

  clearQueued(): void {
    this.fifo?.clear();
    this.queuedBytes = 0;
  }

  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  /** Next free packet id 1..65535, skipping ids still in flight ([MQTT-2.2.1-3]). */
  nextPacketId(): number {
    for (let i = 0; i < 65535; i++) {
      this.lastPacketId = this.lastPacketId === 65535 ? 1 : this.lastPacketId + 1;
      if (this.inflightMap === undefined || !this.inflightMap.has(this.lastPacketId)) {
        return this.lastPacketId;
      }
    }
    return 0; // all 65535 in flight: the caller keeps the message queued
  }
}
