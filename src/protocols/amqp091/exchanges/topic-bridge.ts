/**
 * `amq.topic` IS the shared topic space (DESIGN.md "Canonical names"): a binding of a queue (or an
 * exchange) to amq.topic with key `sensors.*.temp` is a subscription to `sensors/+/temp` in the
 * core's topic tree, so MQTT, STOMP, WAMP... publishes reach the queue, and a publish to amq.topic is
 * a router publish. Each destination has one core Session (not a client: never in router.sessions,
 * never in presence) holding its bindings as subscriptions.
 */
import type { Message, QoS } from "../../../core/message.js";
import type { Router } from "../../../core/router.js";
import {
  type ConnectionInfo,
  Session,
  type SessionConnection,
  type Subscription,
} from "../../../core/session.js";
import type { DestinationKind } from "./exchange.js";

export type BridgeTarget = (kind: DestinationKind, name: string, message: Message) => void;

class BridgeConnection implements SessionConnection {
  readonly info: ConnectionInfo;
  /** A queue bound with overlapping keys gets a message once, as in AMQP (one per queue). */
  private last: Message | undefined;

  constructor(
    readonly kind: DestinationKind,
    readonly name: string,
    private readonly target: BridgeTarget,
  ) {
    this.info = {
      protocol: "amqp091",
      protocolVersion: "0-9-1",
      remoteAddress: "",
      remotePort: 0,
      transport: "internal",
      connectedAt: Date.now(),
    };
  }

  deliver(message: Message, _qos: QoS, _retain: boolean, _sub: Subscription | undefined): void {
    if (message === this.last) return;
    this.last = message;
    // Cleared once the publish that is running now has been routed everywhere.
    queueMicrotask(this.forget);
    this.target(this.kind, this.name, message);
  }

  private readonly forget = (): void => {
    this.last = undefined;
  };

  drain(): void {}
  close(): void {}
}

export class TopicBridge {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly router: Router,
    private readonly target: BridgeTarget,
  ) {}

  /** Subscribes `filter` (MQTT form) for the destination, content-filtered by `selector` when given. */
  bind(kind: DestinationKind, name: string, filter: string, selector?: string): void {
    const key = `${kind}\u0000${name}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = new Session(`$amqp091/${kind}/${name}`, "amqp091");
      session.connection = new BridgeConnection(kind, name, this.target);
      this.sessions.set(key, session);
    }
    // QoS 1: the message keeps its own QoS (persistent when published with QoS >= 1).
    this.router.subscribe(session, filter, {
      qos: 1,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 2,
      ...(selector === undefined ? {} : { selector }),
    });
  }

  unbind(kind: DestinationKind, name: string, filter: string): void {
    const key = `${kind}\u0000${name}`;
    const session = this.sessions.get(key);
    if (!session) return;
    this.router.unsubscribe(session, filter);
    if (session.subscriptions.size === 0) this.sessions.delete(key);
  }

  removeDestination(kind: DestinationKind, name: string): void {
    const key = `${kind}\u0000${name}`;
    const session = this.sessions.get(key);
    if (!session) return;
    for (const filter of [...session.subscriptions.keys()]) this.router.unsubscribe(session, filter);
    this.sessions.delete(key);
  }
}
