/**
 * A consumer of a named queue: its prefetch window, its ack mode and its flow state. Competing
 * consumers of one queue are served round-robin by NamedQueue, each within its window.
 */
import { type CompiledSelector, compileSelector } from "../selector/compile.js";
import type { AckScope, NackOptions } from "./ack-scope.js";
import type { NamedQueue } from "./named-queue.js";
import type { ConsumerOptions, Delivery } from "./types.js";

export interface CancelOptions {
  /**
   * Requeue the unacknowledged messages this consumer holds (default true: STOMP UNSUBSCRIBE, a
   * consumer that dies). AMQP basic.cancel passes false: they stay ackable on the channel until it
   * closes (AckScope.close()).
   */
  requeueUnacked?: boolean;
}

export class Consumer {
  readonly tag: string;
  readonly prefetch: number;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly scope: AckScope;
  /** The content filter, when the consumer has one. */
  readonly selector: CompiledSelector | undefined;
  /** Deliveries not yet settled; bounded by prefetch. */
  unacked = 0;
  active = true;
  private flowing = true;
  private readonly handler: (delivery: Delivery) => void;
  private readonly cancelled: ((reason: "deleted") => void) | undefined;

  constructor(
    readonly queue: NamedQueue,
    opts: ConsumerOptions,
    scope: AckScope,
  ) {
    this.tag = opts.tag;
    this.prefetch = opts.prefetch ?? 0;
    this.noAck = opts.noAck ?? false;
    this.exclusive = opts.exclusive ?? false;
    this.scope = scope;
    this.handler = opts.onMessage;
    this.cancelled = opts.onCancel;
    this.flowing = !(opts.paused ?? false);
    this.selector = opts.selector === undefined ? undefined : compileSelector(opts.selector);
  }

  hasCapacity(): boolean {
    if (!this.active || !this.flowing) return false;
    return this.noAck || this.prefetch === 0 || this.unacked < this.prefetch;
  }

  /**
   * Backpressure (DESIGN.md hot-path rules): an adapter whose socket is full pauses the consumer;
   * messages then wait in the queue, which is bounded by its own arguments, not in socket buffers.
   */
  setFlow(flowing: boolean): void {
    this.flowing = flowing;
    if (flowing) this.queue.drain();
  }

  ack(tag: number, multiple = false): number {
    return this.scope.ack(tag, multiple);
  }

  nack(tag: number, opts?: NackOptions): number {
    return this.scope.nack(tag, opts);
  }

  cancel(opts?: CancelOptions): void {
    this.queue.cancelConsumer(this, opts);
  }

  /** @internal */
  deliver(delivery: Delivery): void {
    this.handler(delivery);
  }

  /** @internal The queue was deleted under it. */
  end(): void {
    this.active = false;
    this.scope.consumers.delete(this);
    this.cancelled?.("deleted");
  }
}
