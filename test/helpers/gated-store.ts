/** A memory store whose commits finish only when the test lets them: to see what waits for a commit. */
import { MemoryStore } from "../../src/store/memory-store.js";

export class GatedStore extends MemoryStore {
  /** While true, commit() waits for open(). */
  gated = false;
  /** Commits started while gated. */
  commits = 0;
  private release: Array<() => void> = [];

  override commit(): Promise<void> {
    if (!this.gated) return Promise.resolve();
    this.commits++;
    return new Promise((r) => this.release.push(r));
  }

  /** Ends the gate and completes the commits waiting on it. */
  open(): void {
    this.gated = false;
    const r = this.release;
    this.release = [];
    for (const f of r) f();
  }
}
