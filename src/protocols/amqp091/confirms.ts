/**
 * Publisher confirms of one channel (RabbitMQ's confirm class extension): each publish gets the next
 * tag; it is acked at once, or after the store commit that makes it durable (one commit per tick
 * covers every persistent message of the tick: group commit), or nacked when a queue refused it.
 * Settled confirms go out in tag order, a run of acks as one basic.ack with multiple.
 */
import type { MethodArgs } from "./codec/index.js";

/** A confirm not yet sent: waits for the store commit, or is ready as ack / nack. */
interface Pending {
  tag: number;
  state: ConfirmState;
}

export type ConfirmState = "waiting" | "ack" | "nack";

export interface ConfirmHost {
  isOpen(): boolean;
  send(name: string, args: MethodArgs): void;
  /** Resolves once everything written so far is durable. */
  commit(): Promise<void>;
}

export class PublisherConfirms {
  private seq = 0;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private commitScheduled = false;

  constructor(private readonly host: ConfirmHost) {}

  /** The next publish's confirm: "waiting" until the store commit, or already "ack" / "nack". */
  next(state: ConfirmState): number {
    const tag = ++this.seq;
    this.pending.push({ tag, state });
    if (state !== "waiting") this.scheduleFlush();
    else if (!this.commitScheduled) {
      this.commitScheduled = true;
      process.nextTick(this.commit);
    }
    return tag;
  }

  private readonly commit = (): void => {
    this.commitScheduled = false;
    const upTo = this.seq;
    this.host.commit().then(
      () => this.settle(upTo, "ack"),
      () => this.settle(upTo, "nack"),
    );
  };

  private settle(upTo: number, state: "ack" | "nack"): void {
    for (const c of this.pending) {
      if (c.tag > upTo) break;
      if (c.state === "waiting") c.state = state;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (!this.host.isOpen()) return;
    let i = 0;
    let runEnd = 0;
    const list = this.pending;
    for (; i < list.length; i++) {
      const c = list[i]!;
      if (c.state === "waiting") break;
      if (c.state === "ack") {
        runEnd = c.tag;
        continue;
      }
      if (runEnd) this.host.send("basic.ack", { deliveryTag: runEnd, multiple: true });
      runEnd = 0;
      this.host.send("basic.nack", { deliveryTag: c.tag, multiple: false, requeue: false });
    }
    if (runEnd) this.host.send("basic.ack", { deliveryTag: runEnd, multiple: true });
    if (i > 0) this.pending = list.slice(i);
  };
}
