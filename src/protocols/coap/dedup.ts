/**
 * Message-id de-duplication per peer (RFC 7252 §4.5): a request seen within EXCHANGE_LIFETIME is
 * not processed again; a confirmable duplicate gets the same reply again (the cached bytes).
 * A map finds an entry by message id; a FIFO keeps arrival order, so expiry and the per-peer bound
 * look at the oldest entry in O(1), without an iterator per request (a busy peer keeps the map full:
 * every request then drops the oldest entry).
 */
import { Fifo } from "../../core/fifo.js";

export interface DedupEntry {
  readonly mid: number;
  at: number;
  /** The bytes sent for this exchange (piggybacked response, or the empty ACK); undefined while pending. */
  reply: Buffer | undefined;
}

export class Dedup {
  private readonly map = new Map<number, DedupEntry>();
  /** Entries in arrival order; one replaced by a reuse of its id stays here until it is reached. */
  private readonly order = new Fifo<DedupEntry>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly max: number,
  ) {}

  get(mid: number, now: number): DedupEntry | undefined {
    this.expire(now);
    return this.map.get(mid);
  }

  /** Records a new exchange (the caller checked get() first). */
  add(mid: number, now: number): DedupEntry {
    if (this.map.size >= this.max) this.dropOldest();
    const e: DedupEntry = { mid, at: now, reply: undefined };
    this.map.set(mid, e); // a reused id replaces its old entry, which the FIFO then skips
    this.order.push(e);
    return e;
  }

  get size(): number {
    return this.map.size;
  }

  /** Drops entries older than the lifetime. */
  expire(now: number): void {
    const limit = now - this.lifetimeMs;
    for (let e = this.order.peek(); e !== undefined && e.at <= limit; e = this.order.peek()) {
      this.order.shift();
      if (this.map.get(e.mid) === e) this.map.delete(e.mid);
    }
  }

  private dropOldest(): void {
    for (let e = this.order.shift(); e !== undefined; e = this.order.shift()) {
      if (this.map.get(e.mid) === e) {
        this.map.delete(e.mid);
        return;
      }
    }
  }
}
