/**
 * AMQP queues on the core's named queues (router.queues): declare with RabbitMQ's rules (server
 * names, reserved `amq.` prefix, equivalence), delete and purge, plus what the core leaves to the
 * protocol: dead-letter exchanges, queue expiry (x-expires) and single active consumer.
 */
import { randomBytes } from "node:crypto";
import { dottedToTopic } from "../../core/dotted-names.js";
import { type DiscardEvent, deadLettered, type NamedQueue, QueueError } from "../../core/queues/index.js";
import type { Router } from "../../core/router.js";
import { ReplyCode } from "./codec/constants.js";
import { AmqpError } from "./codec/errors.js";
import type { FieldTable } from "./codec/reader.js";
import { withDeath } from "./death-headers.js";
import type { ExchangeRegistry } from "./exchanges/registry.js";
import { type AmqpMessage, deliveryAddress, deliveryProperties } from "./message-mapping.js";
import { type AmqpQueueArguments, parseQueueArguments, sameAmqpArguments } from "./queue-arguments.js";

export interface QueueDeclare {
  name: string;
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable | undefined;
  /** The declaring connection (owner of an exclusive queue). */
  owner: string;
}

/** A consumer waiting for its turn on a single-active-consumer queue. */
export interface SacWaiter {
  readonly owner: object;
  readonly tag: string;
  activate(): void;
}

interface QueueState {
  amqp: AmqpQueueArguments;
  /** Raw declare arguments, kept for the topology file. */
  table: FieldTable;
  expiryTimer: NodeJS.Timeout | undefined;
  waiting: SacWaiter[];
}

/** Separates the vhost from the queue name in the core's names (see QueueRegistry). */
const SEP = "\u001f";

/** Core QueueError codes -> AMQP reply codes (STYLE.md convention 6: one table). */
const QUEUE_ERROR_CODES = {
  NOT_FOUND: ReplyCode.NotFound,
  PRECONDITION_FAILED: ReplyCode.PreconditionFailed,
  RESOURCE_LOCKED: ReplyCode.ResourceLocked,
  ACCESS_REFUSED: ReplyCode.AccessRefused,
} as const;

export function amqpErrorOf(err: unknown): unknown {
  if (err instanceof QueueError) return new AmqpError(QUEUE_ERROR_CODES[err.code], err.message);
  return err;
}

export class QueueRegistry {
  private readonly states = new Map<string, QueueState>();
  onDurableChange: () => void = () => {};

  /**
   * Queue names in the core are the client's names in the default vhost, and `<US>vhost<US>name`
   * (US = U+001F) in the others, so every vhost has a namespace of its own in one QueueManager and
   * one store. Names holding U+001F are refused, so the two forms cannot meet.
   */
  private readonly prefix: string;

  constructor(
    private readonly router: Router,
    private readonly exchanges: ExchangeRegistry,
    readonly vhost = "/",
  ) {
    this.prefix = vhost === "/" ? "" : `${SEP}${vhost}${SEP}`;
    router.queues.onDiscarded((e) => this.discarded(e));
  }

  /** The core's name of this vhost's queue `name`. */
  internal(name: string): string {
    return this.prefix + name;
  }

  /**
   * Queue names starting with "$" belong to the broker itself (XMPP offline storage and rosters,
   * STOMP durable subscriptions): AMQP clients may not declare, open, purge or delete them.
   */
  private checkName(name: string): void {
    if (name.startsWith("$")) {
      throw new AmqpError(
        ReplyCode.AccessRefused,
        `queue name '${name}' is reserved: names starting with '$' belong to the broker`,
      );
    }
  }

  /** The client's name of a queue of this vhost. */
  external(queue: NamedQueue | string): string {
    const name = typeof queue === "string" ? queue : queue.name;
    return name.slice(this.prefix.length);
  }

  /** Does the core queue `name` belong to this vhost? */
  owns(name: string): boolean {
    return this.prefix === "" ? !name.startsWith(SEP) : name.startsWith(this.prefix);
  }

  /** queue.declare (amqp0-9-1.xml queue.declare rules, RabbitMQ's error codes). */
  declare(d: QueueDeclare): NamedQueue {
    let name = d.name;
    if (name.includes(SEP))
      throw new AmqpError(ReplyCode.PreconditionFailed, "queue names may not contain U+001F");
    this.checkName(name);
    if (d.passive) {
      if (name === "") throw new AmqpError(ReplyCode.NotFound, `no queue '' in vhost '${this.vhost}'`);
      const q = this.lookup(name, d.owner);
      this.touch(q);
      return q;
    }
    if (name === "") name = `amq.gen-${randomBytes(16).toString("base64url")}`;
    else if (name.startsWith("amq.") && !this.router.queues.find(this.internal(name))) {
      throw new AmqpError(ReplyCode.AccessRefused, `queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    const parsed = parseQueueArguments(name, d.arguments);
    name = this.internal(name);
    const existing = this.router.queues.find(name);
    const state = this.states.get(name);
    if (existing && state && !sameAmqpArguments(state.amqp, parsed.amqp)) {
      this.wrap(() => existing.checkOwner(d.owner));
      throw new AmqpError(
        ReplyCode.PreconditionFailed,
        `inequivalent arg for queue '${this.external(name)}' in vhost '${this.vhost}'`,
      );
    }
    const q = this.wrap(() =>
      this.router.queues.declare(name, {
        durable: d.durable,
        autoDelete: d.autoDelete,
        exclusiveOwner: d.exclusive ? d.owner : undefined,
        arguments: parsed.core,
      }),
    );
    if (!state) {
      this.states.set(name, {
        amqp: parsed.amqp,
        table: d.arguments ?? {},
        expiryTimer: undefined,
        waiting: [],
      });
      if (q.persisted) this.onDurableChange();
    }
    this.touch(q);
    return q;
  }

  /** A durable queue's AMQP arguments, from the topology file at start. */
  restore(name: string, table: FieldTable): void {
    if (!this.owns(name) || !this.router.queues.find(name) || this.states.has(name)) return;
    const parsed = parseQueueArguments(name, table);
    this.states.set(name, { amqp: parsed.amqp, table, expiryTimer: undefined, waiting: [] });
    const q = this.router.queues.find(name)!;
    this.touch(q);
  }

  /** Queues with a state (for the topology file): name -> declare arguments. */
  durableArguments(): Array<[string, FieldTable]> {
    const out: Array<[string, FieldTable]> = [];
    for (const [name, s] of this.states)
      if (this.router.queues.find(name)?.persisted) out.push([name, s.table]);
    return out;
  }

  delete(external: string, ifUnused: boolean, ifEmpty: boolean, owner: string): number {
    this.checkName(external);
    const name = this.internal(external);
    const q = this.router.queues.find(name);
    // Deleting a queue that does not exist succeeds (RabbitMQ makes queue.delete idempotent).
    if (!q) return 0;
    const count = this.wrap(() => this.router.queues.delete(name, { ifUnused, ifEmpty, owner }));
    this.gone(name);
    return count;
  }

  purge(name: string, owner: string): number {
    this.checkName(name);
    return this.wrap(() => this.router.queues.purge(this.internal(name), owner));
  }

  /** This vhost's queue `name` (the client's name), or 404 / 405. */
  lookup(name: string, owner: string): NamedQueue {
    this.checkName(name);
    return this.wrap(() => this.router.queues.lookup(this.internal(name), owner));
  }

  /** The connection `owner` closed: its exclusive queues go. */
  ownerGone(owner: string): void {
    for (const name of this.router.queues.ownerGone(owner)) this.gone(name);
  }

  /** Cleans up after a queue deleted by any path (delete, auto-delete, expiry, owner gone). */
  gone(name: string): void {
    const s = this.states.get(name);
    if (s?.expiryTimer) clearTimeout(s.expiryTimer);
    this.states.delete(name);
    this.exchanges.removeDestination("queue", name);
    this.onDurableChange();
  }

  /** Checks whether `queue` was deleted under us (auto-delete after the last consumer) and cleans up. */
  checkGone(queue: NamedQueue): void {
    if (queue.isDeleted && this.states.has(queue.name)) this.gone(queue.name);
    else if (!queue.isDeleted) this.touch(queue);
  }

  isSingleActive(name: string): boolean {
    return this.states.get(name)?.amqp.singleActiveConsumer === true;
  }

  /** Single active consumer: queue the waiter; it is activated when the active one goes. */
  wait(name: string, waiter: SacWaiter): void {
    this.states.get(name)?.waiting.push(waiter);
  }

  /** Removes a waiter (cancelled before its turn). */
  unwait(name: string, owner: object, tag: string): boolean {
    const s = this.states.get(name);
    if (!s) return false;
    const i = s.waiting.findIndex((w) => w.owner === owner && w.tag === tag);
    if (i < 0) return false;
    s.waiting.splice(i, 1);
    return true;
  }

  /** The active consumer of a single-active-consumer queue went: the next waiter takes over. */
  promote(queue: NamedQueue): void {
    const s = this.states.get(queue.name);
    if (!s || queue.isDeleted || queue.consumerCount > 0) return;
    s.waiting.shift()?.activate();
  }

  /**
   * x-expires: the queue is deleted once it has had no consumer, no get and no redeclare for that
   * long (RabbitMQ's queue TTL). Called on every such use.
   */
  touch(queue: NamedQueue): void {
    const s = this.states.get(queue.name);
    if (!s || s.amqp.expires === undefined) return;
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    s.expiryTimer = undefined;
    if (queue.consumerCount > 0) return;
    s.expiryTimer = setTimeout(() => {
      s.expiryTimer = undefined;
      if (queue.isDeleted || queue.consumerCount > 0) return;
      this.router.queues.delete(queue.name);
      this.gone(queue.name);
    }, s.amqp.expires);
    s.expiryTimer.unref();
  }

  close(): void {
    for (const s of this.states.values()) if (s.expiryTimer) clearTimeout(s.expiryTimer);
  }

  /** A message left a queue unacknowledged: route it to the queue's dead-letter exchange, if any. */
  private discarded(e: DiscardEvent): void {
    const s = this.states.get(e.queue);
    const dlx = s?.amqp.deadLetterExchange;
    if (dlx === undefined || e.deadLettered) return;
    const ex = dlx === "" ? undefined : this.exchanges.get(dlx);
    if (!ex && dlx !== "") return; // RabbitMQ drops the message when the dead-letter exchange does not exist
    const from = deliveryAddress(e.message);
    const routingKey = s!.amqp.deadLetterRoutingKey ?? from.routingKey;
    const copy = deadLettered(e.message, e.reason, this.external(e.queue)) as AmqpMessage;
    copy.topic = dottedToTopic(routingKey);
    const old = deliveryProperties(e.message, Date.now());
    let headers: FieldTable = { ...old.headers };
    for (const [k, v] of copy.properties.userProperties ?? [])
      if (k.startsWith("x-death-")) headers[k] = k === "x-death-count" ? Number(v) : v;
    headers = withDeath(headers, {
      reason: e.reason,
      queue: this.external(e.queue),
      exchange: from.exchange,
      routingKey: from.routingKey,
      time: Math.floor(Date.now() / 1000),
    });
    const { expiration: _gone, ...props } = old;
    copy.amqp = { exchange: dlx, routingKey, props: { ...props, headers }, source: copy.properties };
    // A queue dead-lettering into itself would loop (RabbitMQ drops such cycles unless rejected).
    const exclude = e.reason === "rejected" ? undefined : e.queue;
    if (ex) this.exchanges.route(ex, routingKey, headers, copy, exclude);
    else if (!routingKey.startsWith("$") && this.internal(routingKey) !== exclude) {
      // The default exchange: the routing key names the queue.
      this.exchanges.publishToQueue(this.internal(routingKey), copy, {
        routed: 0,
        refused: false,
        stored: false,
      });
    }
  }

  private wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof QueueError && this.prefix !== "") {
        // The core names the queue by its internal name: show the client's.
        throw amqpErrorOf(
          new QueueError(err.code, `${err.message.replaceAll(this.prefix, "")} in vhost '${this.vhost}'`),
        );
      }
      throw amqpErrorOf(err);
    }
  }
}
