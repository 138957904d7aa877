/**
 * Closed-loop QoS 0 publishing: pre-built batches are written while each credit group has fewer than
 * `window` messages not yet delivered, so the broker runs flat out without queueing without bound.
 * A group that sees no delivery for `stallMs` with messages outstanding writes them off as dropped
 * (QoS 0 allows it) and goes on.
 */

import type net from "node:net";

export interface CreditGroup {
  /** Publishers of this group, each with its own batch. */
  pubs: net.Socket[];
  batches: Buffer[];
  /** Messages per batch. */
  batchMsgs: number;
  /** Deliveries per published message (subscribers). */
  fanout: number;
  /** Messages allowed in flight (published, not yet delivered to all). */
  window: number;
  sent: number;
  delivered: number;
  dropped: number;
  rr: number;
  lastDelivered: number;
  lastProgress: number;
}

export function creditGroup(
  pubs: net.Socket[],
  batches: Buffer[],
  batchMsgs: number,
  fanout: number,
  window: number,
): CreditGroup {
  return {
    pubs,
    batches,
    batchMsgs,
    fanout,
    window,
    sent: 0,
    delivered: 0,
    dropped: 0,
    rr: 0,
    lastDelivered: 0,
    lastProgress: performance.now(),
  };
}

/** Writes batches round-robin while the group has credit and some publisher is writable. */
export function pump(g: CreditGroup): void {
  const n = g.pubs.length;
  const limit = g.window * g.fanout;
  let blocked = 0;
  while (blocked < n && g.sent * g.fanout - g.delivered - g.dropped < limit) {
    const i = g.rr;
    g.rr = i + 1 === n ? 0 : i + 1;
    const s = g.pubs[i] as net.Socket;
    if (s.writableNeedDrain || s.destroyed) {
      blocked++;
      continue;
    }
    blocked = 0;
    s.write(g.batches[i] as Buffer);
    g.sent += g.batchMsgs;
  }
}

export class Pump {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly groups: CreditGroup[],
    private readonly stallMs = 300,
  ) {}

  start(): void {
    for (const g of this.groups) {
      for (const s of g.pubs) s.on("drain", () => pump(g));
      pump(g);
    }
    this.timer = setInterval(() => this.tick(), 10);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const g of this.groups) g.window = 0;
  }

  delivered(): number {
    let d = 0;
    for (const g of this.groups) d += g.delivered;
    return d;
  }

  dropped(): number {
    let d = 0;
    for (const g of this.groups) d += g.dropped;
    return d;
  }

  private tick(): void {
    const now = performance.now();
    for (const g of this.groups) {
      if (g.delivered !== g.lastDelivered) {
        g.lastDelivered = g.delivered;
        g.lastProgress = now;
      } else if (now - g.lastProgress > this.stallMs) {
        const outstanding = g.sent * g.fanout - g.delivered - g.dropped;
        if (outstanding > 0) g.dropped += outstanding;
        g.lastProgress = now;
      }
      pump(g);
    }
  }
}
