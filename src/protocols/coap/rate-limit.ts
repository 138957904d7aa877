/**
 * Token bucket per source address: a flood of requests from one address is dropped before any
 * parsing (issue "Bad input"). Silently dropped, as answering would feed the flood.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxAddresses: number,
  ) {}

  /** True when one more datagram from `address` may be processed now. */
  allow(address: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= this.maxAddresses) this.sweep(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(address, b);
    } else {
      const refill = ((now - b.at) * this.perSecond) / 1000;
      if (refill > 0) {
        b.tokens = Math.min(this.burst, b.tokens + refill);
        b.at = now;
      }
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets addresses whose bucket is full again (idle); with no such address, the oldest. */
  sweep(now: number): void {
    for (const [addr, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(addr);
    }
    if (this.buckets.size >= this.maxAddresses) {
      const first = this.buckets.keys().next();
      if (!first.done) this.buckets.delete(first.value);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
