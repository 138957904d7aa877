/** Which sequence numbers a subscriber has seen: a growable byte map, one byte per message. */
export class SeenSet {
  private map = new Uint8Array(1 << 16);
  unique = 0;
  dup = 0;

  add(seq: number): void {
    if (seq >= this.map.length) {
      let n = this.map.length * 2;
      while (n <= seq) n *= 2;
      const bigger = new Uint8Array(n);
      bigger.set(this.map);
      this.map = bigger;
    }
    if (this.map[seq] === 1) this.dup++;
    else {
      this.map[seq] = 1;
      this.unique++;
    }
  }

  /** Sequence numbers below `n` never seen. */
  missingBelow(n: number): number {
    let missing = 0;
    for (let i = 0; i < n; i++) if (this.map[i] !== 1) missing++;
    return missing;
  }
}
