/**
 * One AMQP 1.0 session (part 2 §2.5): its transfer windows, its links by handle, the deliveries sent
 * and not yet settled, and the frames on its channel (flow, transfer, disposition, detach, end).
 * A session error ends this session only (end with the error); a link error detaches that link only.
 */
import { createMessage, type Message } from "../../core/message.js";
import type { Delivery as QueueDelivery } from "../../core/queues/index.js";
import { DecodeError } from "./codec/decoder.js";
import { FRAME_AMQP, type Frame, P } from "./codec/frames.js";
import {
  type AmqpValue,
  bool,
  boolOf,
  described,
  list,
  NULL,
  numberOf,
  uint,
  ushort,
} from "./codec/types.js";
import type { Amqp10Connection } from "./connection.js";
import { Amqp10Error, Cond, errorValue } from "./errors.js";
import { onAttach, routeMessage } from "./handlers.js";
import type { IncomingLink, Link, OutgoingLink } from "./links.js";
import { type Amqp10Message, decodeMessage, encodedBody, encodeHeader } from "./message-mapping.js";

const U32 = 0x1_0000_0000;
const OUR_OUTGOING_WINDOW = 0x7fffffff;

interface Unsettled {
  link: OutgoingLink;
  tag: number;
}

export class Amqp10Session {
  /** Links by the client's handle (the broker answers each attach with the same handle number). */
  readonly links = new Map<number, Link>();
  readonly handleMax: number;
  nextIncomingId: number;
  incomingWindow: number;
  nextOutgoingId = 0;
  remoteIncomingWindow: number;
  /** Deliveries to the client not yet settled, by delivery-id. */
  readonly unsettled = new Map<number, Unsettled>();
  /** The session was ended by the broker with an error: frames are ignored until the client's end. */
  private ending = false;
  private released = false;
  /** Accepted incoming deliveries not yet confirmed: one disposition per contiguous range. */
  private acceptFirst = -1;
  private acceptLast = -1;
  private flowDue = false;
  /** Durable deliveries received, accepted once the store commit covering them is done. */
  private awaitingCommit: number[] = [];

  constructor(
    readonly conn: Amqp10Connection,
    readonly channel: number,
    begin: AmqpValue[],
  ) {
    const next = numberOf(begin[1]);
    const inWin = numberOf(begin[2]);
    const outWin = numberOf(begin[3]);
    if (next === undefined || inWin === undefined || outWin === undefined) {
      throw new Amqp10Error(
        Cond.invalidField,
        "begin needs next-outgoing-id, incoming-window and outgoing-window",
      );
    }
    if (Number.isNaN(next) || Number.isNaN(inWin))
      throw new Amqp10Error(Cond.decodeError, "begin field of wrong type");
    this.nextIncomingId = next;
    this.remoteIncomingWindow = inWin;
    this.incomingWindow = conn.options.sessionWindow;
    const theirMax = numberOf(begin[4]) ?? 0xffffffff;
    this.handleMax = Math.min(theirMax, conn.options.handleMax);
  }

  sendBegin(): void {
    this.send(P.begin, [
      ushort(this.channel),
      uint(this.nextOutgoingId),
      uint(this.incomingWindow),
      uint(OUR_OUTGOING_WINDOW),
      uint(this.handleMax),
    ]);
  }

  send(code: number, fields: AmqpValue[], payload?: Buffer): void {
    this.conn.sendFrame(FRAME_AMQP, this.channel, code, fields, payload);
  }

  onFrame(frame: Frame): void {
    if (this.ending) {
      if (frame.code === P.end) this.finish();
      return;
    }
    try {
      this.dispatch(frame);
    } catch (err) {
      if (err instanceof DecodeError) throw new Amqp10Error(Cond.decodeError, err.message);
      if (!(err instanceof Amqp10Error) || err.scope === "connection") throw err;
      if (err.scope === "session") this.endWith(err.condition, err.message);
      else throw err;
    }
  }

  private dispatch(frame: Frame): void {
    const f = frame.fields;
    switch (frame.code) {
      case P.attach:
        onAttach(this, f);
        return;
      case P.flow:
        this.onFlow(f);
        return;
      case P.transfer:
        this.onTransfer(f, frame.payload);
        return;
      case P.disposition:
        this.onDisposition(f);
        return;
      case P.detach:
        this.onDetach(f);
        return;
      case P.end:
        this.release();
        this.send(P.end, []);
        this.conn.sessionEnded(this);
        return;
      default:
        throw new Amqp10Error(
          Cond.notAllowed,
          `performative 0x${frame.code?.toString(16)} is not allowed on a session`,
        );
    }
  }

  /** Ends the session with an error (part 2 §2.7.7); the client's end completes it. */
  endWith(condition: string, description: string): void {
    this.conn.log.debug("amqp10: session error", { id: this.conn.id, condition, description });
    this.send(P.end, [errorValue(condition, description)]);
    this.release();
    this.ending = true;
  }

  private finish(): void {
    this.conn.sessionEnded(this);
  }

  link(h: AmqpValue | undefined): Link {
    const handle = numberOf(h);
    if (handle === undefined || Number.isNaN(handle))
      throw new Amqp10Error(Cond.invalidField, "handle missing");
    const link = this.links.get(handle);
    if (!link) {
      throw new Amqp10Error(Cond.unattachedHandle, `handle ${handle} is not attached`, "session");
    }
    return link;
  }

  // ---- flow (part 2 §2.7.4) ------------------------------------------------------------------

  private onFlow(f: AmqpValue[]): void {
    const nextIncoming = numberOf(f[0]) ?? 0;
    const inWin = numberOf(f[1]);
    if (inWin === undefined || Number.isNaN(inWin))
      throw new Amqp10Error(Cond.invalidField, "flow without incoming-window");
    this.remoteIncomingWindow = windowLeft(nextIncoming + inWin - this.nextOutgoingId);
    const echo = boolOf(f[9]) === true;
    if (f[4] === undefined || f[4].type === "null") {
      if (echo) this.sendFlow(undefined);
      this.resumeSending();
      return;
    }
    const link = this.link(f[4]);
    if (link.detached) return; // detached by the broker; the client's detach is on its way
    if (link.role === "outgoing") {
      const theirCount = numberOf(f[5]) ?? 0;
      const credit = numberOf(f[6]) ?? 0;
      link.credit = Math.max(0, windowLeft(theirCount + credit - link.deliveryCount));
      link.drain = boolOf(f[8]) === true;
      this.resumeSending();
      if (link.drain && link.credit > 0 && !link.detached) {
        // Nothing more to send now: use up the credit (part 2 §2.6.7 drain).
        link.deliveryCount = (link.deliveryCount + link.credit) % U32;
        link.credit = 0;
        link.consumer?.setFlow(false);
        this.sendFlow(link);
      } else if (echo) this.sendFlow(link);
    } else {
      if (echo) this.sendFlow(link);
      this.resumeSending();
    }
  }

  /** A flow frame: session state, plus the state of `link` when given. */
  sendFlow(link: Link | undefined): void {
    const fields: AmqpValue[] = [
      uint(this.nextIncomingId),
      uint(this.incomingWindow),
      uint(this.nextOutgoingId),
      uint(OUR_OUTGOING_WINDOW),
    ];
    if (link) {
      fields.push(uint(link.handle), uint(link.deliveryCount), uint(link.credit));
      if (link.role === "outgoing") fields.push(uint(0), bool(link.drain));
    }
    this.send(P.flow, fields);
  }

  /** Incoming links whose credit fell below half get it back (unless the broker is short of memory). */
  topUpCredit(): void {
    if (this.conn.adapter.alarm) return;
    const full = this.conn.options.linkCredit;
    for (const l of this.links.values()) {
      if (l.role !== "incoming" || l.detached || l.credit > full / 2) continue;
      l.credit = full;
      this.sendFlow(l);
      this.flowDue = false;
    }
  }

  /** End of an input chunk: confirm accepted deliveries, top up credit and the session window. */
  flush(): void {
    this.flushAccepts();
    this.topUpCredit();
    if (this.incomingWindow < this.conn.options.sessionWindow / 2) {
      this.incomingWindow = this.conn.options.sessionWindow;
      this.flowDue = true;
    }
    if (this.flowDue) {
      this.flowDue = false;
      this.sendFlow(undefined);
    }
  }

  // ---- transfer in (part 2 §2.7.5) -----------------------------------------------------------

  private onTransfer(f: AmqpValue[], payload: Buffer): void {
    const link = this.link(f[0]);
    if (link.role !== "incoming")
      throw new Amqp10Error(Cond.notAllowed, "transfer on a link the broker sends on", "session");
    if (link.detached) {
      // Sent before the client saw the broker's detach: counted against the window, dropped.
      this.incomingWindow--;
      this.nextIncomingId = (this.nextIncomingId + 1) % U32;
      return;
    }
    if (this.incomingWindow <= 0) {
      throw new Amqp10Error(Cond.windowViolation, "transfer beyond the session incoming-window", "session");
    }
    this.incomingWindow--;
    this.nextIncomingId = (this.nextIncomingId + 1) % U32;
    if (boolOf(f[9]) === true) {
      // aborted: the partial delivery is discarded (part 2 §2.7.5).
      link.partial = undefined;
      link.partialSize = 0;
      return;
    }
    const more = boolOf(f[5]) === true;
    if (link.partial === undefined) {
      const id = numberOf(f[1]);
      if (id === undefined || Number.isNaN(id))
        throw new Amqp10Error(Cond.invalidField, "first transfer without delivery-id");
      if (link.credit <= 0) {
        this.detachWith(link, Cond.transferLimitExceeded, "transfer without link credit");
        return;
      }
      link.credit--;
      link.deliveryCount = (link.deliveryCount + 1) % U32;
      link.partialId = id;
      link.partialSettled = boolOf(f[4]) === true;
      if (!more) {
        this.received(link, payload);
        return;
      }
      link.partial = [];
      link.partialSize = 0;
    }
    link.partialSize += payload.length;
    if (link.partialSize > this.conn.options.maxMessageSize) {
      link.partial = undefined;
      this.detachWith(
        link,
        Cond.messageSizeExceeded,
        `message larger than ${this.conn.options.maxMessageSize} bytes`,
      );
      return;
    }
    link.partial.push(Buffer.from(payload));
    if (boolOf(f[4]) === true) link.partialSettled = true;
    if (more) return;
    const whole = Buffer.concat(link.partial);
    link.partial = undefined;
    link.partialSize = 0;
    this.received(link, whole);
  }

  private received(link: IncomingLink, bytes: Buffer): void {
    if (bytes.length > this.conn.options.maxMessageSize) {
      this.detachWith(
        link,
        Cond.messageSizeExceeded,
        `message larger than ${this.conn.options.maxMessageSize} bytes`,
      );
      return;
    }
    const id = link.partialId;
    const now = Date.now();
    let outcome: AmqpValue | undefined;
    let durable = false;
    try {
      const m = decodeMessage(bytes, now);
      durable = m.durable;
      const message = createMessage(
        "",
        m.payload,
        m.durable ? 1 : 0,
        false,
        m.properties,
        this.conn.id,
        now,
      ) as Amqp10Message;
      message.publisherUser = this.conn.principal?.username;
      message.amqp10 = m.attachment;
      outcome = routeMessage(this, link, message, m.to, m.subject);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      outcome = rejected(Cond.decodeError, err.message);
    }
    if (link.partialSettled) return;
    if (outcome === undefined && durable) this.acceptAfterCommit(id);
    else if (outcome === undefined) this.accept(id);
    else {
      this.flushAccepts();
      this.send(P.disposition, [bool(true), uint(id), uint(id), bool(true), outcome]);
    }
  }

  /**
   * A durable message is accepted once the store has committed it (at least once across a crash, as
   * 0-9-1 publisher confirms): one commit per tick covers every such delivery of the session.
   */
  private acceptAfterCommit(id: number): void {
    this.awaitingCommit.push(id);
    if (this.awaitingCommit.length > 1) return;
    process.nextTick(() => {
      // The ids taken now are exactly those written before this commit() call.
      const ids = this.awaitingCommit;
      this.awaitingCommit = [];
      this.conn.router.store.commit().then(
        () => {
          if (this.released || this.ending) return;
          this.conn.stream.cork();
          for (const i of ids) this.accept(i);
          this.flushAccepts();
          this.conn.stream.uncork();
        },
        (err: unknown) => {
          if (this.released || this.ending) return;
          const state = rejected(Cond.internalError, `store commit failed: ${String(err)}`);
          for (const i of ids) this.send(P.disposition, [bool(true), uint(i), uint(i), bool(true), state]);
        },
      );
    });
  }

  private accept(id: number): void {
    if (this.acceptFirst >= 0 && id === (this.acceptLast + 1) % U32) {
      this.acceptLast = id;
      return;
    }
    this.flushAccepts();
    this.acceptFirst = id;
    this.acceptLast = id;
  }

  private flushAccepts(): void {
    if (this.acceptFirst < 0) return;
    const first = this.acceptFirst;
    const last = this.acceptLast;
    this.acceptFirst = -1;
    this.send(P.disposition, [
      bool(true),
      uint(first),
      first === last ? NULL : uint(last),
      bool(true),
      ACCEPTED,
    ]);
  }

  // ---- transfer out ----------------------------------------------------------------------------

  canSend(link: OutgoingLink): boolean {
    return link.credit > 0 && this.remoteIncomingWindow > 0 && !this.conn.congested && !link.detached;
  }

  /** A queue delivery for `link` (called by its consumer, only while the link can send). */
  sendDelivery(link: OutgoingLink, d: QueueDelivery): void {
    const m: Message = d.message;
    const now = Date.now();
    const header = encodeHeader(m.qos, m.properties.expiresAt, d.deliveryCount, now);
    const body = encodedBody(m);
    const id = this.nextOutgoingId;
    if (!link.presettled) this.unsettled.set(id, { link, tag: d.tag });
    const size = header.length + body.length;
    const max = this.conn.remoteMaxFrameSize;
    if (TRANSFER_OVERHEAD + size <= max) {
      this.conn.write(transferHead(this.channel, link.handle, id, link.presettled, false, size));
      if (header.length > 0) this.conn.write(header);
      this.conn.write(body);
      this.nextOutgoingId = (id + 1) % U32;
      this.remoteIncomingWindow--;
    } else {
      const all = Buffer.concat([header, body]);
      const chunk = max - TRANSFER_OVERHEAD;
      for (let off = 0; off < all.length; off += chunk) {
        const part = all.subarray(off, Math.min(all.length, off + chunk));
        const more = off + chunk < all.length;
        this.conn.write(transferHead(this.channel, link.handle, id, link.presettled, more, part.length));
        this.conn.write(part);
        this.nextOutgoingId = (this.nextOutgoingId + 1) % U32;
        this.remoteIncomingWindow--;
      }
    }
    this.conn.router.stats.messagesSent++;
    link.credit--;
    link.deliveryCount = (link.deliveryCount + 1) % U32;
    if (!this.canSend(link)) link.consumer?.setFlow(false);
  }

  /** The window opened, credit came, or the socket drained: links that can send resume. */
  resumeSending(): void {
    for (const l of this.links.values()) {
      if (l.role === "outgoing" && l.consumer && this.canSend(l)) l.consumer.setFlow(true);
    }
  }

  // ---- disposition (part 2 §2.7.6) -----------------------------------------------------------

  private onDisposition(f: AmqpValue[]): void {
    const role = boolOf(f[0]);
    const first = numberOf(f[1]);
    if (role === undefined || first === undefined || Number.isNaN(first)) {
      throw new Amqp10Error(Cond.invalidField, "disposition needs role and first");
    }
    // role sender: the client settles deliveries it sent; the broker settles those at once.
    if (!role) return;
    const last = numberOf(f[2]) ?? first;
    const settled = boolOf(f[3]) === true;
    const state = f[4];
    const span = windowLeft(last - first) + 1;
    if (span <= this.unsettled.size) {
      for (let i = 0, id = first; i < span; i++, id = (id + 1) % U32) this.settleOne(id, state, settled);
    } else {
      for (const id of [...this.unsettled.keys()])
        if (inRange(id, first, last)) this.settleOne(id, state, settled);
    }
    if (!settled && state !== undefined && state.type !== "null") {
      // rcv-settle-mode second: the receiver waits for the broker to settle (part 2 §2.6.12).
      this.send(P.disposition, [bool(false), uint(first), uint(last), bool(true), state]);
    }
  }

  private settleOne(id: number, state: AmqpValue | undefined, settled: boolean): void {
    const u = this.unsettled.get(id);
    if (!u) return;
    const code = state?.type === "described" ? codeOfState(state) : undefined;
    if ((code === undefined || code === P.received) && !settled) return; // no outcome yet
    this.unsettled.delete(id);
    const scope = u.link.consumer?.scope;
    if (!scope) return;
    switch (code) {
      case P.rejected:
        scope.nack(u.tag, { requeue: false });
        return;
      case P.released:
        scope.nack(u.tag, { requeue: true });
        return;
      case P.modified: {
        const mf = state?.type === "described" && state.value.type === "list" ? state.value.value : [];
        // undeliverable-here: not to be delivered again here; dead-lettered, as RabbitMQ 4 does.
        scope.nack(u.tag, { requeue: boolOf(mf[1]) !== true });
        return;
      }
      default:
        // accepted, or settled with no outcome: the message is consumed.
        scope.ack(u.tag);
    }
  }

  // ---- detach (part 2 §2.7.3) ------------------------------------------------------------------

  private onDetach(f: AmqpValue[]): void {
    const link = this.link(f[0]);
    const closed = boolOf(f[1]) === true;
    this.links.delete(link.handle);
    // The answer to a detach the broker sent (an error, a refused attach): nothing more to say.
    if (link.detached) return;
    this.releaseLink(link, closed);
    this.send(P.detach, [uint(link.handle), bool(closed)]);
  }

  /** Detaches a link with an error (part 2 §2.6.5); the client's detach is awaited (ignored). */
  detachWith(link: Link, condition: string, description: string): void {
    this.releaseLink(link, true);
    this.send(P.detach, [uint(link.handle), bool(true), errorValue(condition, description)]);
  }

  /** Stops a link: its consumer ends, its unsettled messages go back to the queue. */
  releaseLink(link: Link, closed: boolean): void {
    if (link.detached) return;
    link.detached = true;
    if (link.role === "incoming") return;
    for (const [id, u] of this.unsettled) if (u.link === link) this.unsettled.delete(id);
    link.consumer?.cancel({ requeueUnacked: true });
    const feed = link.feed;
    if (feed && (!feed.durable || closed)) {
      feed.remove();
      this.conn.adapter.feedRemoved(feed);
      const q = this.conn.router.queues.find(feed.queueName);
      if (q && !q.isDeleted) this.conn.router.queues.delete(feed.queueName);
    }
  }

  /** The session or its connection ended: every link stops (durable subscriptions stay). */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const l of this.links.values()) this.releaseLink(l, false);
    this.links.clear();
  }
}

/** Frame header + transfer performative (handle, delivery-id, delivery-tag, message-format, settled, more). */
const TRANSFER_OVERHEAD = 8 + 3 + 9 + 5 + 5 + 6 + 1 + 1 + 1;

function transferHead(
  channel: number,
  handle: number,
  id: number,
  settled: boolean,
  more: boolean,
  size: number,
): Buffer {
  const b = Buffer.allocUnsafe(TRANSFER_OVERHEAD);
  b.writeUInt32BE(TRANSFER_OVERHEAD + size, 0);
  b[4] = 2;
  b[5] = 0;
  b.writeUInt16BE(channel, 6);
  b[8] = 0x00;
  b[9] = 0x53;
  b[10] = P.transfer;
  b[11] = 0xd0;
  b.writeUInt32BE(TRANSFER_OVERHEAD - 16, 12); // size: count + elements
  b.writeUInt32BE(6, 16);
  b[20] = 0x70;
  b.writeUInt32BE(handle, 21);
  b[25] = 0x70;
  b.writeUInt32BE(id, 26);
  b[30] = 0xa0;
  b[31] = 4;
  b.writeUInt32BE(id, 32);
  b[36] = 0x43; // message-format 0
  b[37] = settled ? 0x41 : 0x42;
  b[38] = more ? 0x41 : 0x42;
  return b;
}

const ACCEPTED = described(P.accepted, list([]));

export function rejected(condition: string, description: string): AmqpValue {
  return described(P.rejected, list([errorValue(condition, description)]));
}

function codeOfState(v: AmqpValue): number | undefined {
  if (v.type !== "described") return undefined;
  const d = v.descriptor;
  if (d.type === "ulong") return Number(d.value);
  if (d.type === "symbol") {
    const m = /^amqp:(accepted|rejected|released|modified|received):list$/.exec(d.value);
    if (!m) return undefined;
    return {
      accepted: P.accepted,
      rejected: P.rejected,
      released: P.released,
      modified: P.modified,
      received: P.received,
    }[m[1] as "accepted"];
  }
  return undefined;
}

/** A serial-number difference (RFC 1982, part 2 §2.5.6) as a count; negative ones as 0. */
function windowLeft(n: number): number {
  const v = ((n % U32) + U32) % U32;
  return v >= 0x80000000 ? 0 : v;
}

function inRange(id: number, first: number, last: number): boolean {
  return first <= last ? id >= first && id <= last : id >= first || id <= last;
}
