/**
 * Where delivery tags come from and acknowledgements go. One per AMQP channel (tags are per channel
 * and `multiple` covers every consumer and basic.get of the channel), one per STOMP subscription
 * (client mode acks cumulatively per subscription). Tags are allocated monotonically and the pending
 * map keeps insertion order, so "every tag up to N" is a walk from the front.
 */
import type { Consumer } from "./consumer.js";
import type { NamedQueue } from "./named-queue.js";
import type { QueueEntry } from "./types.js";

interface Pending {
  queue: NamedQueue;
  entry: QueueEntry;
  /** undefined for get(). */
  consumer: Consumer | undefined;
}

type Outcome = "ack" | "requeue" | "reject";

export interface NackOptions {
  multiple?: boolean;
  /** true: back to the queue (redelivered); false: dead-lettered or dropped. Default true (AMQP). */
  requeue?: boolean;
}

export class AckScope {
  private lastTag = 0;
  private readonly pending = new Map<number, Pending>();
  /** Consumers created on this scope, so close() can cancel them. */
  readonly consumers = new Set<Consumer>();

  get unackedCount(): number {
    return this.pending.size;
  }

  allocateTag(): number {
    return ++this.lastTag;
  }

  /** @internal Called by NamedQueue when it hands out a message that needs an ack. */
  track(tag: number, queue: NamedQueue, entry: QueueEntry, consumer: Consumer | undefined): void {
    this.pending.set(tag, { queue, entry, consumer });
  }

  /**
   * Acknowledges `tag`, or with `multiple` every pending tag ≤ `tag` (tag 0 with multiple = all, as
   * AMQP says). Returns how many were settled: 0 means an unknown tag (AMQP: PRECONDITION_FAILED).
   */
  ack(tag: number, multiple = false): number {
    return this.settle(tag, multiple, "ack");
  }

  /** AMQP basic.nack / STOMP NACK. */
  nack(tag: number, opts: NackOptions = {}): number {
    return this.settle(tag, opts.multiple ?? false, opts.requeue === false ? "reject" : "requeue");
  }

  /** AMQP basic.reject: nack of one tag. */
  reject(tag: number, requeue: boolean): number {
    return this.settle(tag, false, requeue ? "requeue" : "reject");
  }

  /** Requeues everything pending (AMQP basic.recover requeue=true). */
  recover(): number {
    return this.settle(0, true, "requeue");
  }

  /** @internal Requeues what `consumer` holds; the consumer was cancelled. */
  requeueHeldBy(consumer: Consumer): void {
    const touched: NamedQueue[] = [];
    for (const [tag, p] of this.pending) {
      if (p.consumer !== consumer) continue;
      this.pending.delete(tag);
      p.queue.settle(p.entry, p.consumer, "requeue");
      if (!touched.includes(p.queue)) touched.push(p.queue);
    }
    for (const q of touched) q.drain();
  }

  /** The channel / subscription is gone: cancel its consumers and requeue all it held, in order. */
  close(): void {
    for (const c of [...this.consumers]) c.cancel();
    this.recover();
  }

  private settle(tag: number, multiple: boolean, outcome: Outcome): number {
    if (!multiple) {
      const p = this.pending.get(tag);
      if (!p) return 0;
      this.pending.delete(tag);
      p.queue.settle(p.entry, p.consumer, outcome);
      p.queue.drain();
      return 1;
    }
    let count = 0;
    const touched: NamedQueue[] = [];
    for (const [t, p] of this.pending) {
      if (tag !== 0 && t > tag) break;
      this.pending.delete(t);
      p.queue.settle(p.entry, p.consumer, outcome);
      if (!touched.includes(p.queue)) touched.push(p.queue);
      count++;
    }
    // Drain once per queue after the whole batch: freed prefetch is refilled in one pass.
    for (const q of touched) q.drain();
    return count;
  }
}
