/**
 * The CoAP adapter (RFC 7252): datagrams in, message layer (types, de-duplication, ACK/RST
 * matching, rejects), then the request layer (options, authentication, block-wise, resources).
 * Transports hand it datagrams with a sender; it never sees a socket.
 */
import type { RemoteInfo } from "node:dgram";
import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import type { Message } from "../../core/message.js";
import type { Router } from "../../core/router.js";
import type { DatagramSender } from "../../transports/udp.js";
import { expireBlock1, receiveBlock1 } from "./block1.js";
import { respondError } from "./body.js";
import { szxFor } from "./codec/block.js";
import { ACK, CON, Code, codeClass, NON, RST } from "./codec/constants.js";
import { decodeMessage } from "./codec/decode.js";
import { encodeEmpty, encodeMessage } from "./codec/encode.js";
import type { CoapMessage, CoapOption } from "./codec/message.js";
import type { CoapContext } from "./context.js";
import { identityOf, principalOf } from "./credentials.js";
import { Exchange, type ExchangeHost } from "./exchange.js";
import { dispatch } from "./handlers/dispatch.js";
import type { CoapResources, TopicRecord } from "./handlers/env.js";
import { NotifyBatch } from "./notify-batch.js";
import { type CoapOptions, DEFAULT_COAP_OPTIONS } from "./options.js";
import { Peer } from "./peer.js";
import { RateLimiter } from "./rate-limit.js";
import { parseRequest } from "./request.js";

const SWEEP_INTERVAL_MS = 5000;

export class CoapAdapter implements CoapResources, ExchangeHost {
  readonly ctx: CoapContext;
  readonly topics = new Map<string, TopicRecord>();
  private readonly peerMap = new Map<string, Peer>();
  private lastPeer: Peer | undefined;
  private readonly limiter: RateLimiter;
  private readonly sweeper: NodeJS.Timeout;
  /** Datagrams dropped by the rate limit or the peer bound (tests and $SYS-style counters). */
  dropped = 0;

  constructor(router: Router, options: Partial<CoapOptions>, log: Logger) {
    const o = { ...DEFAULT_COAP_OPTIONS, ...options };
    this.ctx = {
      options: o,
      router,
      log,
      szx: szxFor(o.blockSize),
      usage: { block1Bytes: 0 },
      notifications: new NotifyBatch(),
    };
    this.limiter = new RateLimiter(o.rateLimit, o.rateBurst, o.maxPeers);
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  get separateResponseAfterMs(): number {
    return this.ctx.options.separateResponseAfterMs;
  }
  get leisureMs(): number {
    return this.ctx.options.leisureMs;
  }

  peers(): Iterable<Peer> {
    return this.peerMap.values();
  }

  get peerCount(): number {
    return this.peerMap.size;
  }

  /** CoAP topics never hold wildcards (topic-path.ts): a direct lookup. */
  lastValue(topic: string): Message | undefined {
    return this.ctx.router.retainedOf(topic);
  }

  /** Entry point for every datagram (unicast and, when joined, multicast). */
  readonly handleDatagram = (
    data: Buffer,
    from: RemoteInfo,
    sender: DatagramSender,
    multicast: boolean,
  ): void => {
    const now = Date.now();
    const ctx = this.ctx;
    // Requests are limited; ACKs and RSTs answer what the broker sent (notifications), so an
    // address observing many resources is not cut off from acknowledging them.
    const isReply = data.length > 0 && (data[0]! & 0x20) !== 0;
    if (!isReply && !this.limiter.allow(from.address, now)) {
      this.dropped++;
      return;
    }
    ctx.router.stats.bytesReceived += data.length;
    const r = decodeMessage(data);
    if (!r.ok) {
      // RFC 7252 §4.2: a CON with a format error is rejected with RST; anything else is dropped.
      if (r.header?.type === CON && !multicast)
        sender.send(encodeEmpty(RST, r.header.mid), from.port, from.address);
      ctx.log.debug("coap message format error", { address: from.address, error: r.error });
      return;
    }
    const msg = r.message;
    const peer = this.peerFor(from, sender, now);
    if (peer === undefined) {
      this.dropped++;
      return;
    }
    if (msg.code === Code.EMPTY) {
      if (msg.type === CON)
        peer.reset(msg.mid); // CoAP ping (§4.3)
      else if (msg.type === ACK || msg.type === RST) peer.onAckOrReset(msg.mid, msg.type === RST);
      return;
    }
    const cls = codeClass(msg.code);
    if (cls === 0) {
      if (msg.type === CON || msg.type === NON) this.request(peer, msg, data.length, multicast, now);
      // A request code in an ACK or RST is a format error: ignored (§4.2, §4.3).
      return;
    }
    // A response: this server sends no requests, so only an ACK of ours can match (§4.2);
    // an unexpected CON response is rejected (§5.3.2).
    if (msg.type === ACK) peer.onAckOrReset(msg.mid, false);
    else if (msg.type === CON) peer.reset(msg.mid);
  };

  private peerFor(from: RemoteInfo, sender: DatagramSender, now: number): Peer | undefined {
    // The last peer again (a busy client sends many datagrams in a row): no key built.
    const last = this.lastPeer;
    if (last !== undefined && last.port === from.port && last.address === from.address) {
      last.lastSeen = now;
      return last;
    }
    const key = `${from.address}|${from.port}`;
    let peer = this.peerMap.get(key);
    if (peer === undefined) {
      if (this.peerMap.size >= this.ctx.options.maxPeers) {
        this.sweep(now);
        if (this.peerMap.size >= this.ctx.options.maxPeers) return undefined;
      }
      peer = new Peer(this.ctx, from.address, from.port, sender, this.onObserverRemoved, now);
      this.peerMap.set(key, peer);
    }
    peer.lastSeen = now;
    this.lastPeer = peer;
    return peer;
  }

  private readonly onObserverRemoved = (_peer: Peer): void => {};

  private request(peer: Peer, msg: CoapMessage, size: number, multicast: boolean, now: number): void {
    // §8.1: multicast requests are NON; a CON one is ignored.
    if (multicast && msg.type === CON) return;
    const dup = peer.dedup.get(msg.mid, now);
    if (dup !== undefined) {
      // §4.5: a duplicate CON gets the same answer again; a duplicate NON is ignored.
      if (msg.type === CON && dup.reply !== undefined) peer.send(dup.reply);
      return;
    }
    const parsed = parseRequest(msg);
    // §4.5 lets the duplicates of an idempotent request be processed again: a GET without Observe
    // is not recorded, so a device polling a resource costs no entry and no copy of every answer
    // kept for EXCHANGE_LIFETIME. A POST, PUT or DELETE publishes, deletes or calls, and a GET
    // with Observe registers: those are recorded and processed once.
    const entry =
      msg.code === Code.GET && (!parsed.ok || parsed.req.observe === undefined)
        ? undefined
        : peer.dedup.add(msg.mid, now);
    if (!parsed.ok) {
      // §5.4.1: an unrecognized critical option: 4.02 for a CON request, reject (RST) a NON one.
      if (msg.type === CON) {
        const bytes = encodeMessage(ACK, Code.BadOption, msg.mid, msg.token, [], Buffer.from(parsed.error));
        if (entry !== undefined) entry.reply = bytes;
        peer.send(bytes);
      } else if (!multicast) peer.reset(msg.mid);
      return;
    }
    const ex = new Exchange(peer, parsed.req, size, multicast, entry, this);
    const ctx = this.ctx;
    if (parsed.req.proxy) {
      respondError(ctx, ex, Code.ProxyingNotSupported, "this server is not a proxy");
      return;
    }
    if (msg.code > Code.DELETE) {
      respondError(ctx, ex, Code.MethodNotAllowed, "methods: GET, POST, PUT, DELETE");
      return;
    }
    const id = identityOf(parsed.req, peer);
    const principal = principalOf(ctx.router, peer, id);
    if (!(principal instanceof Promise)) {
      this.serve(ex, principal, id.clientId, now);
      return;
    }
    // Authentication may take a while (password hashing): acknowledge first if it does (§5.2.2).
    ex.deferred();
    principal.then(
      (p) => this.serve(ex, p, id.clientId, Date.now()),
      (err: unknown) => {
        ctx.log.warn("coap authentication failed", { error: String(err) });
        respondError(ctx, ex, Code.InternalServerError, "authentication failed");
      },
    );
  }

  private serve(ex: Exchange, principal: Principal | undefined, clientId: string, now: number): void {
    const ctx = this.ctx;
    if (principal === undefined) {
      respondError(ctx, ex, Code.Unauthorized, "bad or missing credentials (?username=&password=)");
      return;
    }
    const method = ex.req.msg.code;
    let body: Buffer = ex.req.msg.payload;
    let block1: CoapOption | undefined;
    if (method === Code.PUT || method === Code.POST) {
      const b = receiveBlock1(ctx, ex, now);
      if (!b.complete) return;
      body = b.payload;
      block1 = b.option;
    }
    try {
      dispatch({ res: this, ex, principal, clientId, body, block1, now });
    } catch (err) {
      ctx.log.error("coap request failed", { error: String(err) });
      if (!ex.done) respondError(ctx, ex, Code.InternalServerError, "internal error");
    }
  }

  /** Expires de-duplication entries and stale block transfers; forgets idle peers. */
  sweep(now: number): void {
    const lifetime = this.ctx.options.exchangeLifetimeMs;
    for (const [key, peer] of this.peerMap) {
      peer.dedup.expire(now);
      if (peer.block1 !== undefined) expireBlock1(this.ctx, peer.block1, now);
      if (peer.idle && peer.dedup.size === 0 && now - peer.lastSeen > lifetime) {
        this.peerMap.delete(key);
        if (this.lastPeer === peer) this.lastPeer = undefined;
      }
    }
    this.limiter.sweep(now);
  }

  /** Ends every observation and timer (broker shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const peer of this.peerMap.values()) {
      peer.outgoing.clear();
      if (peer.observers !== undefined)
        for (const obs of [...peer.observers.values()]) peer.removeObserver(obs);
    }
    this.peerMap.clear();
    this.lastPeer = undefined;
  }
}
