/**
 * Durable topic subscriptions (`SUBSCRIBE /topic/x` with `durable:true` and an `id`, as RabbitMQ):
 * a durable named queue, fed from the topic tree by a router session that never expires, so it keeps
 * collecting messages while its client is away and across a broker restart (the store keeps the
 * session's subscription and the queue's persistent messages). The client consumes the queue like
 * any `/queue/`.
 *
 * The feeding session has a SessionConnection of its own (QueueFeed) that publishes into the queue;
 * it is attached when the subscription is made and again when the broker starts.
 */
import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import type { Message, QoS } from "../../core/message.js";
import type { DeclareOptions, QueueArguments } from "../../core/queues/index.js";
import { NEVER_EXPIRES, type Router } from "../../core/router.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";

/**
 * The queue behind a topic subscription. Like an MQTT persistent session it keeps at most
 * mqtt.maxQueuedMessages (the router's bound per session), the oldest dropped first, so a topic
 * flooded while its subscriber is away cannot grow the broker's memory without bound.
 */
export function subscriptionQueue(router: Router, durable: boolean): DeclareOptions {
  const max = router.limits.maxQueuedMessages;
  const args: QueueArguments = max > 0 ? { maxLength: max, overflow: "drop-head" } : {};
  return { durable, autoDelete: !durable, arguments: args };
}

/** Router client ids of the feeding sessions start with this. */
const FEED_PREFIX = "$stomp-durable/";

class QueueFeed implements SessionConnection {
  readonly info: ConnectionInfo;
  session: Session | undefined;
  /** Per-message ACL check, when the subscriber's filter was only partly allowed. */
  principal: Principal | undefined;

  constructor(
    private readonly router: Router,
    readonly queueName: string,
  ) {
    this.info = {
      protocol: "stomp",
      protocolVersion: "durable-subscription",
      remoteAddress: "",
      remotePort: 0,
      transport: "internal",
      connectedAt: Date.now(),
    };
  }

  deliver(message: Message, _qos: QoS, _retain: boolean, _sub: Subscription | undefined): void {
    if (this.principal && !this.router.auth.authorize(this.principal, "subscribe", message.topic)) return;
    const queue = this.router.queues.find(this.queueName);
    if (queue && !queue.isDeleted) queue.publish(message);
  }

  /** Messages the router queued for the session while it had no feed (never, in practice). */
  drain(): void {
    const s = this.session;
    if (!s) return;
    for (let d = s.shiftQueued(); d; d = s.shiftQueued()) {
      this.router.store.deleteDelivery(s.clientId, d.seq);
      this.deliver(d.message, d.qos, false, undefined);
    }
  }

  close(_reason: CloseReason): void {
    // Broker shutdown: the session is kept (saved) for the next start.
    if (this.session) this.router.detach(this.session, this);
  }
}

export class DurableSubscriptions {
  private readonly feeds = new Map<string, QueueFeed>();

  constructor(
    private readonly router: Router,
    private readonly log: Logger,
  ) {}

  /** Attaches a feed to every durable subscription restored from the store (call once at start). */
  restore(): void {
    for (const session of [...this.router.sessions.values()]) {
      if (!session.clientId.startsWith(FEED_PREFIX) || session.connection) continue;
      const name = session.clientId.slice(FEED_PREFIX.length);
      if (!this.router.queues.find(name)) {
        this.log.warn("stomp: durable subscription without its queue, recreated", { queue: name });
        this.router.queues.declare(name, subscriptionQueue(this.router, true));
      }
      this.attach(name, false);
    }
  }

  /** The queue of the durable subscription `id` of client `clientName` (client-id header or login). */
  queueName(clientName: string, id: string): string {
    return `stomp-subscription-${clientName === "" ? "anonymous" : clientName}-${id}`;
  }

  /** Creates the subscription, or points an existing one at `filter` (a resubscribe may change it). */
  ensure(name: string, filter: string, principal: Principal, readChecked: boolean, selector?: string): void {
    const queue = this.router.queues.find(name);
    if (!queue || queue.isDeleted) this.router.queues.declare(name, subscriptionQueue(this.router, true));
    const feed = this.feeds.get(name) ?? this.attach(name, false);
    feed.principal = readChecked ? principal : undefined;
    const session = feed.session!;
    for (const old of [...session.subscriptions.keys()]) {
      if (old !== filter) this.router.unsubscribe(session, old);
    }
    // The content filter is the feed's router subscription's (docs/filters.md); kept in the store.
    if (
      !session.subscriptions.has(filter) ||
      session.subscriptions.get(filter)!.options.selector !== selector
    ) {
      this.router.subscribe(session, filter, {
        qos: 1,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 2,
        ...(selector === undefined ? {} : { selector }),
      });
    }
  }

  /** Deletes the subscription and its queue (UNSUBSCRIBE with durable:true). */
  remove(name: string): void {
    const feed = this.feeds.get(name);
    if (feed?.session) {
      const clientId = feed.session.clientId;
      // Re-attached with a clean start and no expiry, then detached: the router forgets it entirely.
      const fresh = this.router.attach(clientId, "stomp", true, 0, feed);
      this.router.detach(fresh.session, feed);
    }
    this.feeds.delete(name);
    if (this.router.queues.find(name)) this.router.queues.delete(name);
  }

  private attach(name: string, clean: boolean): QueueFeed {
    const feed = new QueueFeed(this.router, name);
    const { session } = this.router.attach(FEED_PREFIX + name, "stomp", clean, NEVER_EXPIRES, feed);
    feed.session = session;
    this.feeds.set(name, feed);
    return feed;
  }
}
