/**
 * One client endpoint (address and port, RFC 7252 §1.2): message ids, de-duplication, the
 * confirmable messages in flight to it, its observations and — while it observes — its core
 * Session, which the router delivers through (this class is the SessionConnection).
 *
 * Observations belong to the endpoint: a client whose source port changes is a new endpoint
 * (RFC 7641 §3.1, §4.1) and must register again; the old observations end when their next
 * confirmable notification goes unanswered.
 */
import type { Principal } from "../../core/auth.js";
import type { Message, QoS } from "../../core/message.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";
import type { DatagramSender } from "../../transports/udp.js";
import { blockSize } from "./codec/block.js";
import { CON, Code, NON, RST } from "./codec/constants.js";
import { encodeEmpty } from "./codec/encode.js";
import type { CoapContext } from "./context.js";
import type { RequestIdentity } from "./credentials.js";
import { Dedup } from "./dedup.js";
import { etagOf } from "./etag.js";
import { notificationHead, notificationTail, setMid } from "./notification.js";
import { Observer } from "./observer.js";
import { type OutgoingCon, type OutgoingHost, OutgoingWindow } from "./outgoing.js";

const NON_MIDS = 16;
const MAX_DEDUP_PER_PEER = 4096;
export const MAX_PRINCIPALS_PER_PEER = 8;
const PAYLOAD_MARKER = Buffer.from([0xff]);
const MAX_PING_WAITERS = 8;
const PING_RETRY_AFTER_MS = 60_000;

export interface Block1State {
  parts: Buffer[];
  received: number;
  at: number;
}

export class Peer implements SessionConnection, OutgoingHost {
  readonly info: ConnectionInfo;
  readonly dedup: Dedup;
  readonly outgoing: OutgoingWindow;
  lastSeen: number;
  /** Shown to receive at its address: it answered a confirmable message of ours (RFC 7252 §11.3). */
  verified = false;
  private pingMid = -1;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingWaiters: Array<() => void> = [];
  private pingFailedAt = 0;
  private mid: number;
  observers: Map<string, Observer> | undefined;
  session: Session | undefined;
  /** Principals by credentials (query parameters), so only the first request pays for hashing. */
  principals: Map<string, Principal> | undefined;
  /** The principal of requests without credentials or client id (most requests), once known. */
  plainPrincipal: Principal | undefined;
  /** The client id of a request without `?clientid=`. */
  readonly defaultClientId: string;
  /** The identity of a request without a query (credentials.ts). */
  readonly plainIdentity: RequestIdentity;
  block1: Map<string, Block1State> | undefined;
  /** Recent NON notification ids, so an RST to one ends its observation (RFC 7641 §3.6). */
  private readonly nonMids = new Int32Array(NON_MIDS).fill(-1);
  private readonly nonObservers: (Observer | undefined)[] = new Array(NON_MIDS);
  private nonNext = 0;

  constructor(
    private readonly ctx: CoapContext,
    readonly address: string,
    readonly port: number,
    public sender: DatagramSender,
    /** Called when an observation ends (so the endpoint can drop idle peers). */
    private readonly onObserverRemoved: (peer: Peer) => void,
    now: number,
  ) {
    this.info = {
      protocol: "coap",
      protocolVersion: "1",
      remoteAddress: address,
      remotePort: port,
      transport: "udp",
      connectedAt: now,
    };
    this.lastSeen = now;
    this.defaultClientId = `coap-${address}-${port}`;
    this.plainIdentity = { clientId: this.defaultClientId, username: undefined, password: undefined };
    this.dedup = new Dedup(ctx.options.exchangeLifetimeMs, MAX_DEDUP_PER_PEER);
    this.outgoing = new OutgoingWindow(this);
    // RFC 7252 §4.4: message ids start at a random value (and are not guessable off-path, §11.3).
    this.mid = Math.floor(Math.random() * 0x10000);
  }

  // ---- sending ---------------------------------------------------------------------------------

  send(parts: Buffer | Buffer[]): void {
    let n = 0;
    if (Buffer.isBuffer(parts)) n = parts.length;
    else for (const p of parts) n += p.length;
    this.ctx.router.stats.bytesSent += n;
    this.sender.send(parts, this.port, this.address);
  }

  nextMid(): number {
    this.mid = (this.mid + 1) & 0xffff;
    return this.mid;
  }

  get nstart(): number {
    return this.ctx.options.nstart;
  }
  get maxQueued(): number {
    return this.ctx.options.maxQueuedNotifications;
  }
  get maxRetransmit(): number {
    return this.ctx.options.maxRetransmit;
  }

  /** ACK_TIMEOUT times a random factor in [1, ACK_RANDOM_FACTOR] (RFC 7252 §4.2). */
  initialTimeout(): number {
    const o = this.ctx.options;
    return o.ackTimeoutMs * (1 + Math.random() * (o.ackRandomFactor - 1));
  }

  transmit(o: OutgoingCon): void {
    setMid(o.parts[0]!, o.mid);
    this.send(o.parts);
  }

  failed(o: OutgoingCon, why: "timeout" | "dropped"): void {
    // RFC 7641 §4.5: a confirmable notification that times out ends the observation.
    if (why === "timeout" && o.observer?.active) {
      this.ctx.log.debug("coap observer timed out", {
        address: this.address,
        port: this.port,
        topic: o.observer.topic,
      });
      this.removeObserver(o.observer);
    }
  }

  /**
   * Checks that the peer receives at its address with a CON Empty message ("CoAP ping", RFC 7252
   * §4.3), whose RST proves it (§11.3). `then` runs when the answer comes, or after `waitMs`
   * without one (the caller then answers within the amplification limit). Bounded waiters.
   */
  verify(waitMs: number, then: () => void): void {
    if (this.verified) {
      then();
      return;
    }
    // A peer that did not answer the last ping is not waited for again for a while.
    if (this.pingWaiters.length >= MAX_PING_WAITERS || Date.now() - this.pingFailedAt < PING_RETRY_AFTER_MS) {
      then();
      return;
    }
    this.pingWaiters.push(then);
    if (this.pingMid >= 0) return;
    this.pingMid = this.nextMid();
    this.send(encodeEmpty(CON, this.pingMid));
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      this.pingMid = -1;
      this.pingFailedAt = Date.now();
      this.runPingWaiters();
    }, waitMs);
  }

  private runPingWaiters(): void {
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const waiters = this.pingWaiters;
    this.pingWaiters = [];
    for (const w of waiters) w();
  }

  /** An ACK or RST from the peer for message id `mid`. */
  onAckOrReset(mid: number, reset: boolean): void {
    if (mid === this.pingMid) {
      this.pingMid = -1;
      this.verified = true;
      this.runPingWaiters();
      return;
    }
    const o = this.outgoing.complete(mid);
    if (o !== undefined) {
      this.verified = true;
      if (reset && o.observer?.active) this.removeObserver(o.observer);
      return;
    }
    if (reset) {
      // RFC 7641 §3.6: an RST in answer to a NON notification cancels the observation too.
      for (let i = 0; i < NON_MIDS; i++) {
        if (this.nonMids[i] === mid) {
          const obs = this.nonObservers[i];
          this.nonMids[i] = -1;
          this.nonObservers[i] = undefined;
          if (obs?.active) this.removeObserver(obs);
          return;
        }
      }
    }
  }

  // ---- observe ---------------------------------------------------------------------------------

  /** Sends `message` to one observer: CON or NON, and CON now and then to find dead ones (RFC 7641 §4.5). */
  notify(obs: Observer, message: Message, now: number): void {
    const o = this.ctx.options;
    const tail = notificationTail(message, obs.szx, now);
    // A notification larger than a block carries its first block; the observer GETs the rest of
    // this message (RFC 7959 §3.4), which need not be retained.
    obs.notified = message.payload.length > blockSize(obs.szx) ? message : undefined;
    const seq = obs.nextSeq();
    const con =
      obs.confirmable || ++obs.sinceCon >= o.observeConEvery || now - obs.lastConAt >= o.observeConIntervalMs;
    // The ETag of a block-wise notification is the one its later blocks carry (handlers/ps-read.ts).
    const etag = obs.notified === undefined ? undefined : etagOf(message);
    const head = notificationHead(con ? CON : NON, obs.token, seq, Code.Content, etag);
    if (con) {
      obs.sinceCon = 0;
      obs.lastConAt = now;
      this.outgoing.send([head, tail], obs);
      return;
    }
    const mid = this.nextMid();
    setMid(head, mid);
    this.nonMids[this.nonNext] = mid;
    this.nonObservers[this.nonNext] = obs;
    this.nonNext = (this.nonNext + 1) % NON_MIDS;
    this.send([head, tail]);
  }

  /**
   * Sends a final notification, e.g. 4.04 after the topic was deleted (draft-ietf-core-coap-pubsub).
   * An error carries no Observe option: it ends the observation (RFC 7641 §3.2).
   */
  notifyEnd(obs: Observer, code: number, payload: Buffer): void {
    const t = obs.token;
    const head = Buffer.alloc(4 + t.length);
    head[0] = 0x40 | ((obs.confirmable ? CON : NON) << 4) | t.length;
    head[1] = code;
    t.copy(head, 4);
    const parts = payload.length > 0 ? [head, PAYLOAD_MARKER, payload] : [head];
    if (obs.confirmable) this.outgoing.send(parts, undefined);
    else {
      setMid(head, this.nextMid());
      this.send(parts);
    }
  }

  /** Adds or updates the observation of `topic`; undefined when this peer has too many. */
  addObserver(
    topic: string,
    token: Buffer,
    confirmable: boolean,
    szx: number,
    principal: Principal,
    clientId: string,
    now: number,
    selector?: string,
  ): Observer | undefined {
    const existing = this.observers?.get(topic);
    if (existing !== undefined) {
      // RFC 7641 §4.1: a client registers once per resource; a new registration replaces the old.
      existing.token = Buffer.from(token);
      existing.confirmable = confirmable;
      existing.szx = szx;
      if (this.session !== undefined) this.subscribe(topic, confirmable, selector);
      return existing;
    }
    if (this.observers === undefined) this.observers = new Map();
    const observers = this.observers;
    if (observers.size >= this.ctx.options.maxObserversPerPeer) return undefined;
    if (this.session === undefined) {
      this.info.username = principal.username;
      this.session = this.ctx.router.attach(clientId, "coap", true, 0, this).session;
    }
    const obs = new Observer(topic, Buffer.from(token), confirmable, szx, principal, now);
    observers.set(topic, obs);
    this.subscribe(topic, confirmable, selector);
    return obs;
  }

  /** The router subscription behind an observation (a new registration replaces its options). */
  private subscribe(topic: string, confirmable: boolean, selector: string | undefined): void {
    this.ctx.router.subscribe(this.session!, topic, {
      qos: confirmable ? 1 : 0,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 2,
      ...(selector === undefined ? {} : { selector }),
    });
  }

  removeObserver(obs: Observer): void {
    if (!obs.active) return;
    obs.active = false;
    if (this.observers?.get(obs.topic) !== obs) return;
    this.observers.delete(obs.topic);
    const session = this.session;
    if (session !== undefined) {
      this.ctx.router.unsubscribe(session, obs.topic);
      if (this.observers.size === 0) {
        this.session = undefined;
        this.ctx.router.detach(session, this);
      }
    }
    this.onObserverRemoved(this);
  }

  get observerCount(): number {
    return this.observers?.size ?? 0;
  }

  /** True when nothing here needs to outlive an idle period. */
  get idle(): boolean {
    return this.observerCount === 0 && this.outgoing.pending === 0 && (this.block1?.size ?? 0) === 0;
  }

  // ---- SessionConnection -------------------------------------------------------------------------

  deliver(message: Message, _qos: QoS, _retain: boolean, sub: Subscription | undefined): void {
    if (sub === undefined) return;
    const obs = this.observers?.get(sub.topicFilter);
    if (obs !== undefined) this.ctx.notifications.add(this, obs, message);
  }

  drain(): void {}

  /** The session was taken over (same client id elsewhere) or the broker shuts down. */
  close(_reason: CloseReason): void {
    if (this.observers !== undefined) {
      for (const obs of this.observers.values()) obs.active = false;
      this.observers.clear();
    }
    this.session = undefined;
    this.outgoing.clear();
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
  }

  /** Rejects a message we cannot process (RFC 7252 §4.2, §4.3). */
  reset(mid: number): void {
    this.send(encodeEmpty(RST, mid));
  }
}
