/**
 * Confirmable messages the broker sends to one peer (CON notifications, separate responses):
 * retransmission with exponential back-off (RFC 7252 §4.2), at most NSTART outstanding
 * (§4.7), the rest waiting in a bounded queue.
 */
import { Fifo } from "../../core/fifo.js";
import type { Observer } from "./observer.js";

export interface OutgoingCon {
  mid: number;
  /** Header first; its message id bytes are written when it is sent. */
  parts: Buffer[];
  attempt: number;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  observer: Observer | undefined;
}

export interface OutgoingHost {
  readonly nstart: number;
  readonly maxQueued: number;
  readonly maxRetransmit: number;
  initialTimeout(): number;
  nextMid(): number;
  transmit(o: OutgoingCon): void;
  /** The last retransmission went unanswered (RFC 7252 §4.2), or the message was dropped unsent. */
  failed(o: OutgoingCon, why: "timeout" | "dropped"): void;
}

export class OutgoingWindow {
  private readonly inflight = new Map<number, OutgoingCon>();
  private readonly waiting = new Fifo<OutgoingCon>();

  constructor(private readonly host: OutgoingHost) {}

  send(parts: Buffer[], observer: Observer | undefined): void {
    const o: OutgoingCon = { mid: 0, parts, attempt: 0, timeoutMs: 0, timer: undefined, observer };
    if (this.inflight.size < this.host.nstart && this.waiting.length === 0) {
      this.start(o);
      return;
    }
    if (this.waiting.length >= this.host.maxQueued) {
      const dropped = this.waiting.shift()!;
      this.host.failed(dropped, "dropped");
    }
    this.waiting.push(o);
  }

  private start(o: OutgoingCon): void {
    o.mid = this.host.nextMid();
    o.timeoutMs = this.host.initialTimeout();
    this.inflight.set(o.mid, o);
    this.host.transmit(o);
    o.timer = setTimeout(this.retransmit, o.timeoutMs, o);
  }

  private readonly retransmit = (o: OutgoingCon): void => {
    if (this.inflight.get(o.mid) !== o) return;
    if (o.attempt >= this.host.maxRetransmit || (o.observer !== undefined && !o.observer.active)) {
      this.inflight.delete(o.mid);
      if (o.observer === undefined || o.observer.active) this.host.failed(o, "timeout");
      this.next();
      return;
    }
    o.attempt++;
    o.timeoutMs *= 2;
    this.host.transmit(o);
    o.timer = setTimeout(this.retransmit, o.timeoutMs, o);
  };

  /** An ACK or RST matched `mid`: returns the message it completes, if any. */
  complete(mid: number): OutgoingCon | undefined {
    const o = this.inflight.get(mid);
    if (o === undefined) return undefined;
    clearTimeout(o.timer);
    this.inflight.delete(mid);
    this.next();
    return o;
  }

  private next(): void {
    while (this.inflight.size < this.host.nstart && this.waiting.length > 0) {
      const o = this.waiting.shift()!;
      // Notifications for an observation that ended meanwhile are not sent.
      if (o.observer !== undefined && !o.observer.active) continue;
      this.start(o);
    }
  }

  get pending(): number {
    return this.inflight.size + this.waiting.length;
  }

  clear(): void {
    for (const o of this.inflight.values()) clearTimeout(o.timer);
    this.inflight.clear();
    this.waiting.clear();
  }
}
