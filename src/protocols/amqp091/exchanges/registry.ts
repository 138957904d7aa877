/**
 * Every exchange of the broker and the routing of one published message through them (exchange-to-
 * exchange bindings included) to the set of destination queues. `amq.topic` is the core topic
 * space (topic-bridge.ts). Errors are AmqpErrors with the reply codes RabbitMQ uses.
 */

import { dottedToFilter, topicToDotted } from "../../../core/dotted-names.js";
import type { Message } from "../../../core/message.js";
import type { Router } from "../../../core/router.js";
import { compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import { validateTopicName } from "../../../core/topic.js";
import { ReplyCode } from "../codec/constants.js";
import { AmqpError } from "../codec/errors.js";
import type { FieldTable } from "../codec/reader.js";
import { amqpHeadersOf } from "../message-mapping.js";
import {
  type Binding,
  type DestinationKind,
  Exchange,
  type ExchangeDefinition,
  type ExchangeType,
} from "./exchange.js";
import { TopicBridge } from "./topic-bridge.js";

export const TOPIC_EXCHANGE = "amq.topic";

const PREDECLARED: Array<[string, ExchangeType]> = [
  ["amq.direct", "direct"],
  ["amq.fanout", "fanout"],
  ["amq.topic", "topic"],
  ["amq.headers", "headers"],
  ["amq.match", "headers"],
];

export interface RouteResult {
  /** Queues (and core subscriptions, for amq.topic) that took the message. */
  routed: number;
  /** A queue refused it (reject-publish overflow): publisher confirms nack it. */
  refused: boolean;
  /** A durable queue took it as a persistent message: confirm after the store commit. */
  stored: boolean;
}

export class ExchangeRegistry {
  private readonly exchanges = new Map<string, Exchange>();
  readonly bridge: TopicBridge;
  /** Called after a durable exchange or binding changed (topology-file.ts saves them). */
  onDurableChange: () => void = () => {};

  /**
   * `sharedTopic`: this registry's amq.topic is the core topic space (the default vhost's); in other
   * vhosts amq.topic is an ordinary topic exchange, so vhosts stay apart.
   */
  constructor(
    private readonly router: Router,
    readonly sharedTopic = true,
    /** The vhost's name, for error texts. */
    readonly vhost = "/",
  ) {
    for (const [name, type] of PREDECLARED) {
      this.exchanges.set(
        name,
        new Exchange({ name, type, durable: true, autoDelete: false, internal: false, args: {} }),
      );
    }
    this.bridge = new TopicBridge(router, (kind, name, message) =>
      this.deliverFromTopic(kind, name, message),
    );
  }

  get(name: string): Exchange | undefined {
    return this.exchanges.get(name);
  }

  [Symbol.iterator](): IterableIterator<Exchange> {
    return this.exchanges.values();
  }

  /** Creates the exchange or checks an existing one is equivalent (406 otherwise). */
  declare(def: ExchangeDefinition): Exchange {
    const existing = this.exchanges.get(def.name);
    if (existing) {
      if (
        existing.type !== def.type ||
        existing.durable !== def.durable ||
        existing.autoDelete !== def.autoDelete ||
        existing.internal !== def.internal
      ) {
        throw new AmqpError(
          ReplyCode.PreconditionFailed,
          `inequivalent arg for exchange '${def.name}': declared as ${existing.type}, durable=${existing.durable}, auto_delete=${existing.autoDelete}`,
        );
      }
      return existing;
    }
    if (def.name.startsWith("amq.")) {
      throw new AmqpError(
        ReplyCode.AccessRefused,
        `exchange name '${def.name}' contains reserved prefix 'amq.*'`,
      );
    }
    const ex = new Exchange(def);
    this.exchanges.set(def.name, ex);
    if (ex.durable) this.onDurableChange();
    return ex;
  }

  /** Deletes the exchange with its bindings in both directions. Idempotent, like RabbitMQ. */
  delete(name: string, ifUnused: boolean): void {
    const ex = this.exchanges.get(name);
    if (!ex) return;
    if (name.startsWith("amq."))
      throw new AmqpError(ReplyCode.AccessRefused, `exchange '${name}' is predeclared`);
    if (ifUnused && ex.bindings.length > 0)
      throw new AmqpError(ReplyCode.PreconditionFailed, `exchange '${name}' in use`);
    this.removeExchange(ex);
  }

  private removeExchange(ex: Exchange): void {
    this.exchanges.delete(ex.name);
    for (const b of [...ex.bindings]) this.dropBinding(b, false);
    this.removeDestination("exchange", ex.name);
    if (ex.durable) this.onDurableChange();
  }

  /** A queue (or exchange) is gone: every binding to it goes too. */
  removeDestination(kind: DestinationKind, name: string): void {
    let durable = false;
    for (const ex of [...this.exchanges.values()]) {
      for (const b of [...ex.bindings]) {
        if (b.destKind === kind && b.destination === name) {
          durable ||= ex.durable;
          this.dropBinding(b, true);
        }
      }
    }
    this.bridge.removeDestination(kind, name);
    if (durable) this.onDurableChange();
  }

  bind(
    source: string,
    destKind: DestinationKind,
    destination: string,
    key: string,
    args: FieldTable,
  ): Binding {
    if (source === "") {
      throw new AmqpError(ReplyCode.AccessRefused, "operation not permitted on the default exchange");
    }
    const ex = this.require(source);
    if (destKind === "exchange") this.require(destination);
    const existing = ex.find(destKind, destination, key, args);
    if (existing) return existing;
    const b = ex.makeBinding(destKind, destination, key, args);
    if (this.isShared(source)) {
      const filter = dottedToFilter(key);
      if (filter === undefined) {
        throw new AmqpError(
          ReplyCode.PreconditionFailed,
          `binding key '${key}' on amq.topic: '#' is only supported as the last word (the shared topic space is MQTT's)`,
        );
      }
      this.bridge.bind(destKind, destination, filter, this.selectorOf(ex, destKind, destination, key, args));
    }
    ex.add(b);
    if (ex.durable) this.onDurableChange();
    return b;
  }

  /**
   * The `x-selector` argument of a binding to amq.topic (docs/filters.md): checked now, so a bad one
   * is refused at bind time (406). The topic space keeps one subscription per destination and key,
   * so a second binding of the same key with another selector is refused too.
   */
  private selectorOf(
    ex: Exchange,
    destKind: DestinationKind,
    destination: string,
    key: string,
    args: FieldTable,
  ): string | undefined {
    const raw = args["x-selector"];
    const selector = raw === undefined ? undefined : Buffer.isBuffer(raw) ? raw.toString("utf8") : raw;
    if (selector !== undefined && typeof selector !== "string") {
      throw new AmqpError(ReplyCode.PreconditionFailed, "x-selector must be a string");
    }
    if (selector !== undefined) {
      try {
        compileSelector(selector);
      } catch (err) {
        if (err instanceof SelectorError)
          throw new AmqpError(ReplyCode.PreconditionFailed, `x-selector: ${err.message}`);
        throw err;
      }
    }
    const clash = ex.bindings.some(
      (o) =>
        o.destKind === destKind &&
        o.destination === destination &&
        o.key === key &&
        (o.args["x-selector"] ?? undefined) !== (args["x-selector"] ?? undefined),
    );
    if (clash) {
      throw new AmqpError(
        ReplyCode.PreconditionFailed,
        `'${destination}' is already bound to amq.topic with key '${key}' and another x-selector`,
      );
    }
    return selector;
  }

  /** Removes a binding; unbinding one that does not exist is not an error (RabbitMQ). */
  unbind(
    source: string,
    destKind: DestinationKind,
    destination: string,
    key: string,
    args: FieldTable,
  ): void {
    if (source === "") {
      throw new AmqpError(ReplyCode.AccessRefused, "operation not permitted on the default exchange");
    }
    const ex = this.require(source);
    const b = ex.find(destKind, destination, key, args);
    if (b) this.dropBinding(b, true);
  }

  private dropBinding(b: Binding, autoDelete: boolean): void {
    const ex = this.exchanges.get(b.source);
    if (!ex) return;
    ex.remove(b);
    if (
      this.isShared(ex.name) &&
      !ex.bindings.some(
        (o) => o.destKind === b.destKind && o.destination === b.destination && o.key === b.key,
      )
    ) {
      const filter = dottedToFilter(b.key);
      if (filter !== undefined) this.bridge.unbind(b.destKind, b.destination, filter);
    }
    if (ex.durable) this.onDurableChange();
    // An auto-delete exchange goes when its last binding does (amqp0-9-1.xml exchange.declare).
    if (autoDelete && ex.autoDelete && ex.bindings.length === 0) this.removeExchange(ex);
  }

  /** Is `name` the shared topic space here (amq.topic of the default vhost)? */
  isShared(name: string): boolean {
    return this.sharedTopic && name === TOPIC_EXCHANGE;
  }

  require(name: string): Exchange {
    const ex = this.exchanges.get(name);
    if (!ex) throw new AmqpError(ReplyCode.NotFound, `no exchange '${name}' in vhost '${this.vhost}'`);
    return ex;
  }

  /**
   * Routes `message` published to `exchange` with `routingKey`. The default exchange ("") routes to
   * the queue named by the key; the caller handles it (it knows the queue registry).
   */
  route(
    ex: Exchange,
    routingKey: string,
    headers: FieldTable | undefined,
    message: Message,
    exclude?: string,
  ): RouteResult {
    const result: RouteResult = { routed: 0, refused: false, stored: false };
    const queues: string[] = [];
    this.collect(ex, routingKey, headers, message, queues, result, undefined);
    for (const name of queues) if (name !== exclude) this.publishToQueue(name, message, result);
    return result;
  }

  publishToQueue(name: string, message: Message, result: RouteResult): void {
    const q = this.router.queues.find(name);
    if (!q || q.isDeleted) return;
    result.routed++;
    if (q.publish(message) === "refused") result.refused = true;
    else if (message.qos > 0 && q.persisted) result.stored = true;
  }

  private collect(
    ex: Exchange,
    routingKey: string,
    headers: FieldTable | undefined,
    message: Message,
    queues: string[],
    result: RouteResult,
    visited: Set<Exchange> | undefined,
  ): void {
    if (this.isShared(ex.name)) {
      // A key that is no valid topic name (empty, or with "+" / "#" in it) has no place in the shared
      // space: other protocols could not even receive it. It routes nowhere, like an unbound key.
      if (validateTopicName(message.topic, Number.MAX_SAFE_INTEGER) !== undefined) return;
      // The core delivers to bound queues (and to every other protocol's subscribers) itself.
      const n = this.router.publish(message);
      result.routed += n;
      if (n > 0 && message.qos > 0) result.stored = true;
      return;
    }
    ex.match(routingKey, headers, (b) => {
      if (b.destKind === "queue") {
        if (!queues.includes(b.destination)) queues.push(b.destination);
        return;
      }
      const dest = this.exchanges.get(b.destination);
      if (!dest) return;
      visited ??= new Set([ex]);
      if (visited.has(dest)) return;
      visited.add(dest);
      this.collect(dest, routingKey, headers, message, queues, result, visited);
    });
  }

  /** A message of the shared topic space reached a queue or exchange bound to amq.topic. */
  private deliverFromTopic(kind: DestinationKind, name: string, message: Message): void {
    const result: RouteResult = { routed: 0, refused: false, stored: false };
    if (kind === "queue") {
      this.publishToQueue(name, message, result);
      return;
    }
    const dest = this.exchanges.get(name);
    if (!dest) return;
    const queues: string[] = [];
    const key = topicKey(message);
    this.collect(
      dest,
      key,
      headersOf(message),
      message,
      queues,
      result,
      new Set([this.exchanges.get(TOPIC_EXCHANGE)!, dest]),
    );
    for (const q of queues) this.publishToQueue(q, message, result);
  }

  /** For tests and the topology file: the durable exchanges we created (not the predeclared ones). */
  durableExchanges(): Exchange[] {
    return [...this.exchanges.values()].filter((e) => e.durable && !e.name.startsWith("amq."));
  }

  /** Durable bindings: durable source, and a durable destination (RabbitMQ keeps only those). */
  durableBindings(isDurableQueue: (name: string) => boolean): Binding[] {
    const out: Binding[] = [];
    for (const ex of this.exchanges.values()) {
      if (!ex.durable) continue;
      for (const b of ex.bindings) {
        const destDurable =
          b.destKind === "queue"
            ? isDurableQueue(b.destination)
            : (this.exchanges.get(b.destination)?.durable ?? false);
        if (destDurable) out.push(b);
      }
    }
    return out;
  }
}

/** The routing key of a topic-space message: its topic in dotted form. */
function topicKey(message: Message): string {
  return topicToDotted(message.topic);
}

function headersOf(message: Message): FieldTable | undefined {
  return amqpHeadersOf(message);
}
