/**
 * A receiving link on `/topic/...` is served from a queue of its own (as RabbitMQ does), fed from the
 * topic tree by a router session: link credit then works the same as for `/queue/`, and the queue's
 * bound (mqtt.maxQueuedMessages, oldest dropped first) keeps memory bounded when the receiver stops
 * granting credit. The selector filter of the link is applied here, before a message is queued.
 *
 * A durable terminus (source durable > 0 with expiry-policy `never`, part 3 §3.5.3-3.5.6) is a
 * durable queue fed by a session that never expires: it keeps collecting while the client is away
 * and across a broker restart (the adapter re-attaches its feed at start).
 */
import type { Principal } from "../../core/auth.js";
import type { Message, QoS } from "../../core/message.js";
import type { DeclareOptions, QueueArguments } from "../../core/queues/index.js";
import { NEVER_EXPIRES, type Router } from "../../core/router.js";
import type { CompiledSelector } from "../../core/selector/compile.js";
import { MessageSubject } from "../../core/selector/message-subject.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";

/** Router client ids of durable feeds start with this (the adapter restores them at start). */
export const DURABLE_FEED_PREFIX = "$amqp10-durable/";
const LINK_FEED_PREFIX = "$amqp10-link/";

export function feedQueueOptions(
  router: Router,
  durable: boolean,
  owner: string | undefined,
): DeclareOptions {
  const max = router.limits.maxQueuedMessages;
  const args: QueueArguments = max > 0 ? { maxLength: max, overflow: "drop-head" } : {};
  return { durable, autoDelete: !durable, exclusiveOwner: durable ? undefined : owner, arguments: args };
}

export class TopicFeed implements SessionConnection {
  readonly info: ConnectionInfo;
  session: Session | undefined;
  /** Per-message ACL check, when the subscriber's filter was only partly allowed. */
  principal: Principal | undefined;
  selector: CompiledSelector | undefined;

  constructor(
    private readonly router: Router,
    readonly queueName: string,
    readonly durable: boolean,
  ) {
    this.info = {
      protocol: "amqp10",
      protocolVersion: durable ? "durable-subscription" : "link",
      remoteAddress: "",
      remotePort: 0,
      transport: "internal",
      connectedAt: Date.now(),
    };
  }

  get clientId(): string {
    return (this.durable ? DURABLE_FEED_PREFIX : LINK_FEED_PREFIX) + this.queueName;
  }

  /** Attaches the feed's router session (durable: resumed with its subscriptions, never expiring). */
  attach(): void {
    const expiry = this.durable ? NEVER_EXPIRES : 0;
    this.session = this.router.attach(this.clientId, "amqp10", !this.durable, expiry, this).session;
  }

  /** Points the feed at `filter` (a re-attach may change it). */
  subscribe(filter: string): void {
    const s = this.session!;
    for (const old of [...s.subscriptions.keys()]) if (old !== filter) this.router.unsubscribe(s, old);
    if (!s.subscriptions.has(filter)) {
      this.router.subscribe(s, filter, {
        qos: 1,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 2,
      });
    }
  }

  deliver(message: Message, _qos: QoS, _retain: boolean, _sub: Subscription | undefined): void {
    if (this.principal && !this.router.auth.authorize(this.principal, "subscribe", message.topic)) return;
    if (this.selector && !this.selector.matches(new MessageSubject(message))) return;
    const queue = this.router.queues.find(this.queueName);
    if (queue && !queue.isDeleted) queue.publish(message);
  }

  drain(): void {
    const s = this.session;
    if (!s) return;
    for (let d = s.shiftQueued(); d; d = s.shiftQueued()) this.deliver(d.message, d.qos, false, undefined);
  }

  close(_reason: CloseReason): void {
    if (this.session) this.router.detach(this.session, this);
  }

  /** Ends the feed; a durable one is forgotten by the router (its stored session too). */
  remove(): void {
    if (!this.session) return;
    if (this.durable) {
      const fresh = this.router.attach(this.clientId, "amqp10", true, 0, this);
      this.router.detach(fresh.session, this);
    } else {
      this.router.detach(this.session, this);
    }
    this.session = undefined;
  }
}
