/**
 * The Broker's view of WAMP subscriptions (WAMP §11.x and "Subscription Meta API"): one
 * subscription per (topic URI, match policy) with a router-scope id, shared by every session that
 * subscribes the same way, and the topic filter it occupies in the core's topic tree. Matching and
 * delivery stay in the core Router; this registry only names subscriptions and keeps their history.
 */

import { type RpcPayload, wildcardMatches } from "../../core/dealer/index.js";
import { dottedToTopic } from "../../core/dotted-names.js";
import type { Message } from "../../core/message.js";
import { topicToUri, uriToTopic } from "./codec/uri.js";

export type SubscriptionMatch = "exact" | "prefix" | "wildcard";

/** Anything that subscribes: a WAMP connection. */
export interface Subscriber {
  readonly sessionId: number;
}

export interface HistoryEntry {
  timestamp: number;
  publication: number;
  topic: string;
  payload: RpcPayload;
}

export class WampSubscription {
  readonly created = new Date();
  readonly subscribers = new Set<Subscriber>();
  history: HistoryEntry[] | undefined = undefined;
  /** The last message recorded in `history` (a message reaches a subscription once per session). */
  lastRecorded: Message | undefined = undefined;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: SubscriptionMatch,
    /** The canonical filter in the core's topic tree. */
    readonly filter: string,
  ) {}

  /** True when a message on `uri` belongs to this subscription (the tree filter already matched). */
  accepts(uri: string): boolean {
    return this.match !== "prefix" || uri.startsWith(this.uri);
  }
}

/**
 * The core topic filter for a WAMP subscription. Exact: `a.b.c` -> `a/b/c`. Wildcard: empty
 * components become `+` (`a..c` -> `a/+/c`). Prefix (a string prefix in WAMP): the filter of its
 * whole components followed by `#` (`a.b` -> `a/#`, `a.b.` -> `a/b/#`); the prefix itself is then
 * checked per message by WampSubscription.accepts.
 */
export function subscriptionFilter(uri: string, match: SubscriptionMatch): string {
  if (match === "exact") return uriToTopic(uri);
  const parts = uri.split(".");
  const levels = parts.map(dottedToTopic);
  if (parts.length > 1 && parts[0] === "wamp") levels[0] = "$wamp"; // the router's URI space (uriToTopic)
  if (match === "wildcard") return levels.map((l, i) => (parts[i] === "" ? "+" : l)).join("/");
  levels.pop(); // the last component may be partial: "a.b" also covers "a.bc"
  levels.push("#");
  return levels.join("/");
}

export class SubscriptionRegistry {
  private readonly byKey = new Map<string, WampSubscription>();
  private readonly byId = new Map<number, WampSubscription>();
  private nextId = 0;

  constructor(private readonly historyLimit: number) {}

  /** Adds `s` to the subscription for (uri, match), creating it when needed. */
  subscribe(
    s: Subscriber,
    uri: string,
    match: SubscriptionMatch,
  ): { sub: WampSubscription; created: boolean } {
    const key = `${match}\u0000${uri}`;
    let sub = this.byKey.get(key);
    const created = sub === undefined;
    if (sub === undefined) {
      sub = new WampSubscription(++this.nextId, uri, match, subscriptionFilter(uri, match));
      if (this.historyLimit > 0) sub.history = [];
      this.byKey.set(key, sub);
      this.byId.set(sub.id, sub);
    }
    sub.subscribers.add(s);
    return { sub, created };
  }

  /** Removes `s`; true when the subscription has no subscriber left and was deleted. */
  unsubscribe(s: Subscriber, sub: WampSubscription): boolean {
    sub.subscribers.delete(s);
    if (sub.subscribers.size > 0) return false;
    this.byKey.delete(`${sub.match}\u0000${sub.uri}`);
    this.byId.delete(sub.id);
    return true;
  }

  get(id: number): WampSubscription | undefined {
    return this.byId.get(id);
  }

  lookup(uri: string, match: SubscriptionMatch): WampSubscription | undefined {
    return this.byKey.get(`${match}\u0000${uri}`);
  }

  all(): IterableIterator<WampSubscription> {
    return this.byId.values();
  }

  /** Subscriptions an event on `uri` reaches (wamp.subscription.match). */
  matching(uri: string): WampSubscription[] {
    const parts = uri.split(".");
    const out: WampSubscription[] = [];
    for (const sub of this.byId.values()) {
      if (
        sub.match === "exact"
          ? sub.uri === uri
          : sub.match === "prefix"
            ? uri.startsWith(sub.uri)
            : wildcardMatches(sub.uri.split("."), parts)
      ) {
        out.push(sub);
      }
    }
    return out;
  }

  /** Keeps a message in the subscription's history (once, however many sessions receive it). */
  record(sub: WampSubscription, m: Message, publication: number, payload: RpcPayload): void {
    const h = sub.history;
    if (h === undefined || sub.lastRecorded === m) return;
    sub.lastRecorded = m;
    h.push({ timestamp: m.timestamp, publication, topic: topicToUri(m.topic), payload });
    if (h.length > this.historyLimit) h.shift();
  }
}
