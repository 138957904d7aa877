/**
 * All named queues of one broker instance (no globals: several brokers may share a process).
 * Declares, looks up, deletes and purges queues, keeps durable definitions in the Store, and rebuilds
 * them from the Store's state at start.
 */
import type { Store, StoredState } from "../../store/store.js";
import { QueueError } from "./errors.js";
import { NamedQueue, type QueueHost } from "./named-queue.js";
import { normalizeArguments, sameArguments } from "./queue-arguments.js";
import type { DeclareOptions, DeleteOptions, DiscardEvent } from "./types.js";

export interface QueueManagerOptions {
  /** Omitted: nothing is persisted (tests, `--store memory` without restart). */
  store?: Store;
  /** Clock, ms since the epoch (tests move it). */
  now?: () => number;
  /** A message left a queue unacknowledged: expired, rejected, over a bound, over its delivery limit. */
  onDiscard?: (event: DiscardEvent) => void;
}

export class QueueManager {
  private readonly queues = new Map<string, NamedQueue>();
  private readonly host: QueueHost;
  private readonly discardListeners: Array<(event: DiscardEvent) => void> = [];

  constructor(opts: QueueManagerOptions = {}) {
    const onDiscard = opts.onDiscard;
    this.host = {
      store: opts.store,
      now: opts.now ?? Date.now,
      find: (name) => this.queues.get(name),
      autoDeleted: (queue) => this.remove(queue),
      discarded: (event) => {
        onDiscard?.(event);
        for (const listener of this.discardListeners) listener(event);
      },
    };
  }

  /** Adds a listener for discarded messages (AMQP 0-9-1 routes them to dead-letter exchanges). */
  onDiscarded(listener: (event: DiscardEvent) => void): void {
    this.discardListeners.push(listener);
  }

  get size(): number {
    return this.queues.size;
  }

  [Symbol.iterator](): IterableIterator<NamedQueue> {
    return this.queues.values();
  }

  /**
   * Rebuilds the durable queues and their messages from the Store (call once, before serving). Every
   * message is ready again; those delivered before (deliveryCount > 0) come out redelivered.
   */
  load(state: Pick<StoredState, "queues" | "queueMessages">): void {
    for (const q of state.queues) {
      if (this.queues.has(q.name)) continue;
      const args = normalizeArguments(q.arguments);
      const def = { ...q, exclusiveOwner: undefined, arguments: args, durable: true };
      this.queues.set(q.name, new NamedQueue(this.host, def));
    }
    // queueMessages is ordered by (queue, seq), so each queue gets its messages in order.
    for (const m of state.queueMessages) this.queues.get(m.queue)?.restore(m.seq, m.message, m.deliveryCount);
    // Expiry timers start with the first publish or sweep; start them now for restored messages.
    for (const q of this.queues.values()) q.sweepExpired();
  }

  /**
   * Creates the queue, or returns the existing one when asked for the same settings.
   * Throws RESOURCE_LOCKED (exclusive to another owner) or PRECONDITION_FAILED (other settings).
   */
  declare(name: string, opts: DeclareOptions): NamedQueue {
    if (name === "") throw new QueueError("PRECONDITION_FAILED", "queue name must not be empty");
    const args = normalizeArguments(opts.arguments);
    const existing = this.queues.get(name);
    if (existing) {
      existing.checkOwner(opts.exclusiveOwner);
      const same =
        existing.durable === opts.durable &&
        existing.autoDelete === opts.autoDelete &&
        (existing.exclusiveOwner !== undefined) === (opts.exclusiveOwner !== undefined) &&
        sameArguments(existing.arguments, args);
      if (!same) {
        throw new QueueError("PRECONDITION_FAILED", `queue '${name}' exists with different settings`);
      }
      return existing;
    }
    const def = {
      name,
      durable: opts.durable,
      autoDelete: opts.autoDelete,
      exclusiveOwner: opts.exclusiveOwner,
      arguments: args,
      createdAt: this.host.now(),
    };
    const queue = new NamedQueue(this.host, def);
    this.queues.set(name, queue);
    if (queue.persisted) {
      this.host.store?.saveQueue({
        name,
        durable: true,
        autoDelete: def.autoDelete,
        arguments: { ...args },
        createdAt: def.createdAt,
      });
    }
    return queue;
  }

  find(name: string): NamedQueue | undefined {
    return this.queues.get(name);
  }

  /** Passive declare: the queue, or NOT_FOUND / RESOURCE_LOCKED. */
  lookup(name: string, owner?: string): NamedQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new QueueError("NOT_FOUND", `no queue '${name}'`);
    queue.checkOwner(owner);
    return queue;
  }

  /** Deletes the queue; returns how many ready messages it held (AMQP delete-ok message-count). */
  delete(name: string, opts: DeleteOptions = {}): number {
    const queue = this.lookup(name, opts.owner);
    if (opts.ifUnused && queue.consumerCount > 0) {
      throw new QueueError("PRECONDITION_FAILED", `queue '${name}' in use`);
    }
    if (opts.ifEmpty && queue.messageCount > 0) {
      throw new QueueError("PRECONDITION_FAILED", `queue '${name}' not empty`);
    }
    return this.remove(queue);
  }

  purge(name: string, owner?: string): number {
    return this.lookup(name, owner).purge();
  }

  /** The owner's connection ended: its exclusive queues go. Returns their names. */
  ownerGone(owner: string): string[] {
    const gone: string[] = [];
    for (const q of [...this.queues.values()]) {
      if (q.exclusiveOwner === owner) {
        this.remove(q);
        gone.push(q.name);
      }
    }
    return gone;
  }

  /** Stops every expiry timer (broker shutdown). The queues stay usable. */
  close(): void {
    for (const q of this.queues.values()) q.stopTimer();
  }

  private remove(queue: NamedQueue): number {
    if (this.queues.get(queue.name) === queue) this.queues.delete(queue.name);
    return queue.destroy();
  }
}
