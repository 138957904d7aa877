/**
 * One named queue (DESIGN.md "Queue"), modelled on RabbitMQ classic queues: FIFO of ready messages,
 * competing consumers served round-robin within their prefetch, acks through an AckScope, requeue to
 * the original position (the front) flagged redelivered, bounds with drop-head or reject-publish,
 * TTL and per-message expiry, dead-lettering, and a delivery limit.
 *
 * Hot path (DESIGN.md): publish() delivers synchronously to a consumer with room; no Promise, no
 * await. Durable writes are enqueued on the Store; the caller awaits store.commit() before it confirms.
 */

import type { Store } from "../../store/store.js";
import { detachFromReadBuffer, type Message } from "../message.js";
import { MessageSubject } from "../selector/message-subject.js";
import { AckScope } from "./ack-scope.js";
import { type CancelOptions, Consumer } from "./consumer.js";
import { deadLettered } from "./dead-letter.js";
import { QueueError } from "./errors.js";
import { ReadyList } from "./ready-list.js";
import type {
  ConsumerOptions,
  DeadLetterReason,
  Delivery,
  DiscardEvent,
  PublishOptions,
  PublishResult,
  QueueArguments,
  QueueEntry,
} from "./types.js";

/** What a queue needs from its QueueManager. */
export interface QueueHost {
  readonly store: Store | undefined;
  now(): number;
  find(name: string): NamedQueue | undefined;
  /** An auto-delete queue lost its last consumer. */
  autoDeleted(queue: NamedQueue): void;
  discarded(event: DiscardEvent): void;
}

export interface QueueDefinition {
  name: string;
  durable: boolean;
  autoDelete: boolean;
  exclusiveOwner: string | undefined;
  arguments: QueueArguments;
  createdAt: number;
}

export class NamedQueue {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: string | undefined;
  readonly arguments: Readonly<QueueArguments>;
  readonly createdAt: number;
  /** Written to the store: durable and not exclusive (exclusive queues die with their owner). */
  readonly persisted: boolean;

  private readonly ready = new ReadyList();
  private bytes = 0;
  private unacked = 0;
  private readonly consumers: Consumer[] = [];
  private rr = 0;
  private nextSeq = 1;
  private deleted = false;
  private dispatching = false;
  /** Consumers with a selector: while there are any, dispatch scans past the head. */
  private selective = 0;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly host: QueueHost,
    def: QueueDefinition,
  ) {
    this.name = def.name;
    this.durable = def.durable;
    this.autoDelete = def.autoDelete;
    this.exclusiveOwner = def.exclusiveOwner;
    this.arguments = def.arguments;
    this.createdAt = def.createdAt;
    this.persisted = def.durable && def.exclusiveOwner === undefined;
  }

  /** Ready messages (AMQP declare-ok / get-ok message-count). */
  get messageCount(): number {
    return this.ready.length;
  }

  get readyBytes(): number {
    return this.bytes;
  }

  get unackedCount(): number {
    return this.unacked;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** Throws RESOURCE_LOCKED when `owner` may not use this exclusive queue. */
  checkOwner(owner: string | undefined): void {
    if (this.exclusiveOwner !== undefined && owner !== this.exclusiveOwner) {
      throw new QueueError("RESOURCE_LOCKED", `queue '${this.name}' is exclusive to another connection`);
    }
  }

  publish(message: Message, opts?: PublishOptions): PublishResult {
    if (this.deleted) return "refused";
    // Kept until consumed: must not pin the socket buffer it was decoded from (see message.ts).
    detachFromReadBuffer(message);
    const now = this.host.now();
    const entry = this.entryFor(message, opts?.persistent ?? message.qos > 0, now, 0);
    if (entry.expiresAt <= now) {
      this.deadLetter(entry, "expired");
      return "accepted";
    }
    // Empty queue and a consumer with room: hand it over without queueing (or storing, for no-ack).
    if (this.ready.length === 0 && !this.dispatching) {
      const consumer = this.pickConsumer(entry);
      if (consumer) {
        this.dispatching = true;
        try {
          this.hand(entry, consumer.scope, consumer, consumer.noAck);
        } finally {
          this.dispatching = false;
        }
        if (this.again) this.drain();
        return "accepted";
      }
    }
    if (this.arguments.overflow === "reject-publish" && this.wouldOverflow(entry.size)) return "refused";
    if (entry.persistent) this.persist(entry);
    this.enqueue(entry);
    this.dropHead();
    this.drain();
    return "accepted";
  }

  /** basic.get: one ready message, or undefined when there is none. */
  get(scope: AckScope, opts: { noAck?: boolean; owner?: string } = {}): Delivery | undefined {
    this.checkOwner(opts.owner);
    const now = this.host.now();
    for (let entry = this.take(); entry; entry = this.take()) {
      if (entry.expiresAt <= now) {
        this.deadLetter(entry, "expired");
        continue;
      }
      const delivery = this.hand(entry, scope, undefined, opts.noAck ?? false);
      this.scheduleExpiry();
      return delivery;
    }
    this.scheduleExpiry();
    return undefined;
  }

  addConsumer(opts: ConsumerOptions): Consumer {
    if (this.deleted) throw new QueueError("NOT_FOUND", `queue '${this.name}' was deleted`);
    this.checkOwner(opts.owner);
    if (this.consumers.some((c) => c.exclusive)) {
      throw new QueueError("ACCESS_REFUSED", `queue '${this.name}' has an exclusive consumer`);
    }
    if (opts.exclusive && this.consumers.length > 0) {
      throw new QueueError(
        "ACCESS_REFUSED",
        `queue '${this.name}' has consumers: cannot consume exclusively`,
      );
    }
    const scope = opts.scope ?? new AckScope();
    const consumer = new Consumer(this, opts, scope);
    this.consumers.push(consumer);
    if (consumer.selector !== undefined) this.selective++;
    scope.consumers.add(consumer);
    this.drain();
    return consumer;
  }

  cancelConsumer(consumer: Consumer, opts: CancelOptions = {}): void {
    if (!consumer.active || consumer.queue !== this) return;
    consumer.active = false;
    consumer.scope.consumers.delete(consumer);
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
    if (i >= 0 && consumer.selector !== undefined) this.selective--;
    if (this.rr > i) this.rr--;
    if (opts.requeueUnacked ?? true) consumer.scope.requeueHeldBy(consumer);
    if (this.autoDelete && this.consumers.length === 0 && !this.deleted) this.host.autoDeleted(this);
    else this.drain();
  }

  /** Removes every ready message (not the unacknowledged ones); returns how many. */
  purge(): number {
    const removed = this.ready.clear();
    this.bytes = 0;
    for (const entry of removed) this.forget(entry);
    this.scheduleExpiry();
    return removed.length;
  }

  /** Dead-letters (or drops) expired messages at the head; the expiry timer calls it too. */
  sweepExpired(): number {
    const now = this.host.now();
    let count = 0;
    for (let head = this.ready.peek(); head && head.expiresAt <= now; head = this.ready.peek()) {
      this.take();
      this.deadLetter(head, "expired");
      count++;
    }
    this.scheduleExpiry();
    return count;
  }

  /** Hands ready messages to consumers with room. Re-entrant calls (from onMessage) loop instead. */
  drain(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.again = false;
        this.dispatchReady();
      } while (this.again && !this.deleted);
    } finally {
      this.dispatching = false;
    }
    this.scheduleExpiry();
  }

  /** @internal An AckScope settles one delivery. The caller drains afterwards. */
  settle(entry: QueueEntry, consumer: Consumer | undefined, outcome: "ack" | "requeue" | "reject"): void {
    if (consumer) consumer.unacked--;
    if (this.deleted) return;
    this.unacked--;
    if (outcome === "ack") this.forget(entry);
    else if (outcome === "reject") this.deadLetter(entry, "rejected");
    else this.requeue(entry);
  }

  /** @internal QueueManager.load(): a stored message, ready again after a restart. */
  restore(seq: number, message: Message, deliveryCount: number): void {
    const entry = this.entryFor(message, true, this.host.now(), deliveryCount, seq);
    entry.stored = true;
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
    this.enqueue(entry);
  }

  /** @internal QueueManager.delete(): ends consumers, drops messages; returns the ready count. */
  destroy(): number {
    if (this.deleted) return 0;
    this.deleted = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const count = this.ready.length;
    this.ready.clear();
    this.bytes = 0;
    for (const c of this.consumers.splice(0)) c.end();
    // Unacked messages stay in their scopes; settling them later is a no-op (settle checks deleted).
    if (this.persisted) this.host.store?.deleteQueue(this.name);
    return count;
  }

  /** @internal Stops the expiry timer (QueueManager.close()). */
  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private dispatchReady(): void {
    if (this.selective > 0) {
      this.dispatchSelective();
      return;
    }
    const now = this.host.now();
    while (this.ready.length > 0 && !this.deleted) {
      const consumer = this.pickConsumer();
      if (!consumer) return;
      const entry = this.take()!;
      if (entry.expiresAt <= now) this.deadLetter(entry, "expired");
      else this.hand(entry, consumer.scope, consumer, consumer.noAck);
    }
  }

  /** Gives one entry to a consumer (or a get): tag, bookkeeping, store, then the callback. */
  private hand(entry: QueueEntry, scope: AckScope, consumer: Consumer | undefined, noAck: boolean): Delivery {
    entry.deliveryCount++;
    const tag = scope.allocateTag();
    if (noAck) {
      this.forget(entry);
    } else {
      this.unacked++;
      if (consumer) consumer.unacked++;
      scope.track(tag, this, entry, consumer);
      // The delivery count is stored so a restart flags the message redelivered (it may have been seen).
      if (entry.persistent) this.persist(entry);
    }
    const delivery: Delivery = {
      tag,
      message: entry.message,
      redelivered: entry.deliveryCount > 1,
      deliveryCount: entry.deliveryCount,
      queue: this.name,
      consumerTag: consumer?.tag,
    };
    consumer?.deliver(delivery);
    return delivery;
  }

  /**
   * With selector consumers the head may be for nobody with room while later messages are for
   * someone: each ready message (up to SELECTIVE_SCAN of them per pass) goes to the next consumer
   * with room that selects it, and the others keep their place.
   */
  private dispatchSelective(): void {
    const now = this.host.now();
    let i = 0;
    while (i < this.ready.length && i < SELECTIVE_SCAN && !this.deleted) {
      if (!this.consumers.some((c) => c.hasCapacity())) return;
      const entry = this.ready.at(i)!;
      if (entry.expiresAt <= now) {
        this.removeReady(i);
        this.deadLetter(entry, "expired");
        continue;
      }
      const consumer = this.pickConsumer(entry);
      if (!consumer) {
        i++;
        continue;
      }
      this.removeReady(i);
      this.hand(entry, consumer.scope, consumer, consumer.noAck);
    }
  }

  private removeReady(i: number): void {
    const entry = this.ready.removeAt(i);
    this.bytes -= entry.size;
  }

  /** The next consumer with room (round robin) that selects `entry`, when it is given. */
  private pickConsumer(entry?: QueueEntry): Consumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n;
      const c = this.consumers[idx]!;
      if (c.hasCapacity() && (c.selector === undefined || entry === undefined || selects(c, entry))) {
        this.rr = (idx + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private requeue(entry: QueueEntry): void {
    const limit = this.arguments.deliveryLimit;
    if (limit !== undefined && entry.deliveryCount >= limit) {
      this.deadLetter(entry, "delivery-limit");
      return;
    }
    this.ready.insertBySeq(entry);
    this.bytes += entry.size;
  }

  private enqueue(entry: QueueEntry): void {
    this.ready.push(entry);
    this.bytes += entry.size;
  }

  private take(): QueueEntry | undefined {
    const entry = this.ready.shift();
    if (entry) this.bytes -= entry.size;
    return entry;
  }

  private wouldOverflow(size: number): boolean {
    const { maxLength, maxLengthBytes } = this.arguments;
    if (maxLength !== undefined && this.ready.length + 1 > maxLength) return true;
    return maxLengthBytes !== undefined && this.bytes + size > maxLengthBytes;
  }

  /** drop-head: the oldest ready messages go (dead-lettered as "maxlen") until within bounds. */
  private dropHead(): void {
    const { maxLength, maxLengthBytes } = this.arguments;
    while (
      this.ready.length > 0 &&
      ((maxLength !== undefined && this.ready.length > maxLength) ||
        (maxLengthBytes !== undefined && this.bytes > maxLengthBytes))
    ) {
      this.deadLetter(this.take()!, "maxlen");
    }
  }

  private deadLetter(entry: QueueEntry, reason: DeadLetterReason): void {
    const dlqName = this.arguments.deadLetterQueue;
    const target = dlqName === undefined ? undefined : this.host.find(dlqName);
    // A queue dead-lettering to itself would cycle forever except on an explicit reject (RabbitMQ).
    const usable = target !== undefined && !target.deleted && (target !== this || reason === "rejected");
    // Into the dead-letter queue first, then out of this one: both writes land in the same commit.
    const taken =
      usable &&
      target.publish(deadLettered(entry.message, reason, this.name), { persistent: entry.persistent }) ===
        "accepted";
    this.forget(entry);
    this.host.discarded({ queue: this.name, message: entry.message, reason, deadLettered: taken });
  }

  private persist(entry: QueueEntry): void {
    const store = this.host.store;
    if (!this.persisted || !store) return;
    store.saveQueueMessage({
      queue: this.name,
      seq: entry.seq,
      message: entry.message,
      deliveryCount: entry.deliveryCount,
    });
    entry.stored = true;
  }

  private forget(entry: QueueEntry): void {
    if (!entry.stored) return;
    entry.stored = false;
    this.host.store?.deleteQueueMessage(this.name, entry.seq);
  }

  private entryFor(
    message: Message,
    persistent: boolean,
    now: number,
    deliveryCount: number,
    seq = this.nextSeq++,
  ): QueueEntry {
    const ttl = this.arguments.messageTtl;
    const own = message.properties.expiresAt ?? Number.POSITIVE_INFINITY;
    const expiresAt = ttl === undefined ? own : Math.min(own, now + ttl);
    return {
      seq,
      message,
      size: message.payload.length,
      expiresAt,
      persistent,
      deliveryCount,
      stored: false,
    };
  }

  /**
   * One timer per queue, for the head's expiry only: like RabbitMQ, a message expires when it reaches
   * the head (a per-queue TTL keeps the head the oldest); no message is delivered after its expiry.
   */
  private scheduleExpiry(): void {
    const head = this.ready.peek();
    const at = head && !this.deleted ? head.expiresAt : Number.POSITIVE_INFINITY;
    if (at === Number.POSITIVE_INFINITY) {
      if (this.timer) this.stopTimer();
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.min(Math.max(0, at - this.host.now()), 2_147_483_647);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.sweepExpired();
    }, delay);
    this.timer.unref();
  }
}

/** Ready messages one selective dispatch pass looks at, at most (bounds the work per pass). */
const SELECTIVE_SCAN = 10_000;

function selects(c: Consumer, entry: QueueEntry): boolean {
  entry.subject ??= new MessageSubject(entry.message);
  return c.selector!.matches(entry.subject);
}
