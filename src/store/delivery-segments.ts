/**
 * The SQLite store's in-memory map of its delivery segments (delivery-codec.ts): which stored
 * deliveries of each session are still live, and in which segment row each one is.
 *
 * It exists so acknowledging a delivery costs no row write of its own. The store persists, per
 * session, a cursor "every delivery with seq <= cursor is done" (one small UPSERT per commit, however
 * many were acknowledged) and deletes a segment row once all of its deliveries are done. Only a
 * delivery that is done while an older one of the same session is still live (acknowledged out of
 * order, expired or refused in the middle of a queue) needs a row of its own, a dead mark, so a
 * restart does not bring it back. Deliveries go in flight and are acknowledged in queue order, so
 * that is rare.
 *
 * Segments of a session are kept in seq order ("ordered"): each new segment starts after the last
 * one ends, as the router allocates seqs in increasing order. If a write ever breaks that (a session
 * that becomes persistent saves what it already holds), the session is marked unordered and the
 * lookups scan instead of bisecting until its segments are gone.
 */

export class Segment {
  /** 1 while the delivery at that index is live. */
  readonly alive: Uint8Array;
  live: number;
  /** Every entry before this index is dead. */
  first = 0;

  constructor(
    /** The row id. */
    readonly id: number,
    /** The seqs of its entries, ascending. */
    readonly seqs: Float64Array,
    alive?: Uint8Array,
  ) {
    this.alive = alive ?? new Uint8Array(seqs.length).fill(1);
    let live = 0;
    for (const a of this.alive) live += a;
    this.live = live;
    this.skipDead();
  }

  get firstSeq(): number {
    return this.seqs[0]!;
  }

  get lastSeq(): number {
    return this.seqs[this.seqs.length - 1]!;
  }

  /** The index of `seq`, or -1. */
  indexOf(seq: number): number {
    const s = this.seqs;
    let lo = this.first;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = s[mid]!;
      if (v === seq) return mid;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The lowest live seq, or undefined when none is left. */
  lowestLive(): number | undefined {
    return this.live > 0 ? this.seqs[this.first] : undefined;
  }

  kill(i: number): void {
    this.alive[i] = 0;
    this.live--;
    if (i === this.first) this.skipDead();
  }

  private skipDead(): void {
    const { alive } = this;
    while (this.first < alive.length && alive[this.first] === 0) this.first++;
  }
}

export class ClientSegments {
  segments: Segment[] = [];
  /** segments[0..head) are all dead. */
  head = 0;
  ordered = true;
  /** The stored cursor: every delivery with seq <= cursor is done (-1: no cursor row). */
  cursor = -1;
  /** Mark rows this session may have (state overrides and dead marks); 0 = certainly none. */
  marks = 0;
  /** The highest seq of any segment added (a save at or below it may replace a stored copy). */
  maxSeq = -1;

  add(seg: Segment): void {
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && seg.firstSeq <= last.lastSeq) this.ordered = false;
    this.segments.push(seg);
    if (seg.lastSeq > this.maxSeq) this.maxSeq = seg.lastSeq;
  }

  /** True when `seq` is a live delivery of this session. */
  has(seq: number): boolean {
    return this.segmentOf(seq) !== undefined;
  }

  /** Marks the live delivery `seq` done; returns its segment, or undefined when it is not live here. */
  kill(seq: number): Segment | undefined {
    const seg = this.segmentOf(seq);
    if (seg !== undefined) seg.kill(seg.indexOf(seq));
    return seg;
  }

  /** The segment holding `seq` live (found without allocating: this runs once per acknowledgement). */
  private segmentOf(seq: number): Segment | undefined {
    const segs = this.segments;
    if (this.ordered) {
      // Acknowledgements come in queue order: the oldest live segment first.
      this.advanceHead();
      const h = segs[this.head];
      if (h === undefined) return undefined;
      if (seq <= h.lastSeq) return liveIn(h, seq);
      let lo = this.head + 1;
      let hi = segs.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const s = segs[mid]!;
        if (seq < s.firstSeq) hi = mid - 1;
        else if (seq > s.lastSeq) lo = mid + 1;
        else return liveIn(s, seq);
      }
      return undefined;
    }
    for (let k = this.head; k < segs.length; k++) {
      const s = segs[k]!;
      if (s.live > 0 && seq >= s.firstSeq && seq <= s.lastSeq && liveIn(s, seq)) return s;
    }
    return undefined;
  }

  /** The lowest live seq of the session, or undefined when it has none. */
  lowestLive(): number | undefined {
    this.advanceHead();
    if (this.ordered) return this.segments[this.head]?.lowestLive();
    let low: number | undefined;
    for (let k = this.head; k < this.segments.length; k++) {
      const l = this.segments[k]!.lowestLive();
      if (l !== undefined && (low === undefined || l < low)) low = l;
    }
    return low;
  }

  get empty(): boolean {
    this.advanceHead();
    return this.head >= this.segments.length;
  }

  private advanceHead(): void {
    const segs = this.segments;
    while (this.head < segs.length && segs[this.head]!.live === 0) this.head++;
    // Drop the dead prefix now and then, so the array does not grow with every segment ever written.
    if (this.head > 64 && this.head * 2 > segs.length) {
      this.segments = segs.slice(this.head);
      this.head = 0;
    }
    if (this.head >= this.segments.length && !this.ordered) {
      this.segments = [];
      this.head = 0;
      this.ordered = true;
    }
  }
}

function liveIn(seg: Segment, seq: number): Segment | undefined {
  const i = seg.indexOf(seq);
  return i >= 0 && seg.alive[i] === 1 ? seg : undefined;
}
