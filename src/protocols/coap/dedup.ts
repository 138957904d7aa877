/**
 * Message-id de-duplication per peer (RFC 7252 §4.5): a request seen within EXCHANGE_LIFETIME is
 * not processed again; a confirmable duplicate gets the same reply again (the cached bytes).
 * Entries live in arrival order, so expiry pops from the front; the count is bounded per peer.
 */
export interface DedupEntry {
  at: number;
  /** The bytes sent for this exchange (piggybacked response, or the empty ACK); undefined while pending. */
  reply: Buffer | undefined;
}

export class Dedup {
  private readonly map = new Map<number, DedupEntry>();

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
    const e: DedupEntry = { at: now, reply: undefined };
    this.map.delete(mid); // a reused id goes to the end of the arrival order
    this.map.set(mid, e);
    return e;
  }

  get size(): number {
    return this.map.size;
  }

  /** Drops entries older than the lifetime (Map iteration is insertion order). */
  expire(now: number): void {
    const limit = now - this.lifetimeMs;
    for (const [mid, e] of this.map) {
      if (e.at > limit) break;
      this.map.delete(mid);
    }
  }

  private dropOldest(): void {
    for (const mid of this.map.keys()) {
      this.map.delete(mid);
      return;
    }
  }
}
