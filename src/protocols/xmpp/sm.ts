/**
 * XEP-0198 stream management state of one bound resource: counts of handled stanzas both ways and
 * the sent stanzas the client has not acknowledged yet. It outlives a cut connection, so a resumed
 * stream (§5) resends exactly the stanzas the client did not get.
 */
import { randomBytes } from "node:crypto";

/** h counts wrap at 2^32 (XEP-0198 §4). */
const MOD = 2 ** 32;

export class StreamManagement {
  readonly id = randomBytes(12).toString("base64url");
  /** Stanzas received from the client (the h we report in <a/>). */
  inbound = 0;
  /** Stanzas sent, i.e. the h the client will report for everything. */
  private outbound = 0;
  /** Sent and not acknowledged, oldest first; entry i has outbound number acked + i + 1. */
  private unacked: string[] = [];
  private acked = 0;

  constructor(readonly resumable: boolean) {}

  /** A stanza was sent: keep it until acknowledged. */
  sent(xml: string): void {
    this.outbound = (this.outbound + 1) % MOD;
    this.unacked.push(xml);
  }

  get unackedCount(): number {
    return this.unacked.length;
  }

  /** The client acknowledged everything up to `h`; false when h acknowledges more than was sent. */
  ack(h: number): boolean {
    const n = (h - this.acked + MOD) % MOD;
    if (n > this.unacked.length) return false;
    this.unacked.splice(0, n);
    this.acked = h;
    return true;
  }

  /** The stanzas to send again after a resume with the client's `h` (undefined when h is invalid). */
  resendAfter(h: number): string[] | undefined {
    if (!this.ack(h)) return undefined;
    const again = this.unacked;
    this.unacked = [];
    // They are counted again as they are re-sent.
    this.outbound = this.acked;
    return again;
  }

  /** Everything not acknowledged (the session ended: these go to offline storage or back). */
  takeUnacked(): string[] {
    const all = this.unacked;
    this.unacked = [];
    return all;
  }
}
