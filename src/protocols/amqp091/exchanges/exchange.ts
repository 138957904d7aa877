/**
 * One exchange and its bindings (amqp0-9-1.xml class exchange). Matching per type: direct (equal
 * key, indexed), fanout (every binding), topic (AMQP words, topic-match.ts), headers
 * (headers-match.ts). The shared `amq.topic` keeps its bindings here for bookkeeping, but routes
 * through the core (topic-bridge.ts).
 */
import type { FieldTable } from "../codec/reader.js";
import { headersMatch, type XMatch, xMatchOf } from "./headers-match.js";
import { compileTopicPattern, type TopicPattern, topicMatches } from "./topic-match.js";

export type ExchangeType = "direct" | "fanout" | "topic" | "headers";
export const EXCHANGE_TYPES: ReadonlySet<string> = new Set(["direct", "fanout", "topic", "headers"]);

export type DestinationKind = "queue" | "exchange";

export interface Binding {
  readonly source: string;
  readonly destKind: DestinationKind;
  readonly destination: string;
  readonly key: string;
  readonly args: FieldTable;
  readonly pattern: TopicPattern | undefined;
  readonly xMatch: XMatch | undefined;
}

export interface ExchangeDefinition {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  args: FieldTable;
}

export class Exchange {
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly args: FieldTable;
  readonly bindings: Binding[] = [];
  /** direct: bindings by key. */
  private readonly byKey = new Map<string, Binding[]>();

  constructor(def: ExchangeDefinition) {
    this.name = def.name;
    this.type = def.type;
    this.durable = def.durable;
    this.autoDelete = def.autoDelete;
    this.internal = def.internal;
    this.args = def.args;
  }

  definition(): ExchangeDefinition {
    const { name, type, durable, autoDelete, internal, args } = this;
    return { name, type, durable, autoDelete, internal, args };
  }

  makeBinding(destKind: DestinationKind, destination: string, key: string, args: FieldTable): Binding {
    return {
      source: this.name,
      destKind,
      destination,
      key,
      args,
      pattern: this.type === "topic" ? compileTopicPattern(key) : undefined,
      xMatch: this.type === "headers" ? xMatchOf(args) : undefined,
    };
  }

  find(destKind: DestinationKind, destination: string, key: string, args: FieldTable): Binding | undefined {
    return this.bindings.find(
      (b) =>
        b.destKind === destKind && b.destination === destination && b.key === key && sameArgs(b.args, args),
    );
  }

  /** Adds the binding; false when an equal one exists (bind is idempotent). */
  add(b: Binding): boolean {
    if (this.find(b.destKind, b.destination, b.key, b.args)) return false;
    this.bindings.push(b);
    if (this.type === "direct") {
      const list = this.byKey.get(b.key);
      if (list) list.push(b);
      else this.byKey.set(b.key, [b]);
    }
    return true;
  }

  remove(b: Binding): void {
    const i = this.bindings.indexOf(b);
    if (i >= 0) this.bindings.splice(i, 1);
    const list = this.byKey.get(b.key);
    if (list) {
      const j = list.indexOf(b);
      if (j >= 0) list.splice(j, 1);
      if (list.length === 0) this.byKey.delete(b.key);
    }
  }

  /** Visits the bindings a message with `routingKey` and `headers` goes to. */
  match(routingKey: string, headers: FieldTable | undefined, visit: (b: Binding) => void): void {
    switch (this.type) {
      case "direct": {
        const list = this.byKey.get(routingKey);
        if (list) for (const b of list) visit(b);
        return;
      }
      case "fanout":
        for (const b of this.bindings) visit(b);
        return;
      case "topic": {
        const words = routingKey.split(".");
        for (const b of this.bindings) if (topicMatches(b.pattern!, words)) visit(b);
        return;
      }
      case "headers":
        for (const b of this.bindings) if (b.xMatch && headersMatch(b.args, b.xMatch, headers)) visit(b);
        return;
    }
  }
}

/** Binding arguments are compared by content (RabbitMQ treats bindings with other arguments as distinct). */
export function sameArgs(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    const va = a[k];
    const vb = b[k];
    if (va === vb) continue;
    if (Buffer.isBuffer(va) && Buffer.isBuffer(vb) && va.equals(vb)) continue;
    if (typeof va === "object" && typeof vb === "object" && JSON.stringify(va) === JSON.stringify(vb))
      continue;
    return false;
  }
  return true;
}
