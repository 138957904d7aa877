/**
 * The per-protocol client adapters of the all-pairs grid (test/all-pairs.test.ts): each wraps a real
 * third-party client behind connect / subscribe(filter) / publish(topic, payload, metadata) / close,
 * and decodes what it receives back into bytes the way its protocol's doc says.
 */

/** What a publisher sends: bytes, and the metadata its protocol can carry (the rest is ignored). */
export interface OutMessage {
  payload: Buffer;
  contentType?: string;
  /** User properties / headers / application properties. */
  props?: Record<string, string>;
  /** Correlation id (text; MQTT 5 sends its UTF-8 bytes as Correlation Data). */
  correlationId?: string;
  /** Reply-to / response topic, as a core topic (`a/b/c`); each protocol writes its own form. */
  replyTo?: string;
  /** Message id (AMQP `message-id`, XMPP item id). */
  messageId?: string;
  /** Time to live in ms, a whole number of seconds (MQTT 5 and CoAP count seconds). */
  ttlMs?: number;
  /** Persistent (MQTT/CoAP QoS 1, AMQP delivery-mode 2 / durable, STOMP persistent:true) or not (QoS 0). */
  persistent?: boolean;
}

/** What a subscriber received, decoded back to bytes (docs/<protocol>.md payload mapping). */
export interface InMessage {
  topic: string;
  payload: Buffer;
  contentType?: string;
  props: Record<string, string>;
  correlationId?: string;
  /** As a core topic. */
  replyTo?: string;
  messageId?: string;
  /** The time to live left (ms) as the delivery says it. */
  ttlMs?: number;
  /** The delivery's timestamp, in ms since the epoch (AMQP 0-9-1's seconds × 1000). */
  timestamp?: number;
  persistent?: boolean;
}

/**
 * Which way a client carries a metadata row: true both ways, or only when it publishes / only on
 * what it receives (CoAP has Max-Age on notifications but not on a PUT; a CoAP PUT's CON/NON is its
 * QoS, a notification's is the observation's).
 */
export type Carries = boolean | "publish" | "deliver";

export function publishes(c: Carries): boolean {
  return c === true || c === "publish";
}
export function delivers(c: Carries): boolean {
  return c === true || c === "deliver";
}

export interface Subscription {
  next(ms?: number): Promise<InMessage>;
  close(): Promise<void>;
}

export interface GridClient {
  readonly name: string;
  /** Subscriptions with `+`/`#` (or the protocol's own wildcard / prefix form). */
  readonly wildcards: boolean;
  /** Carries a content type (or, for WAMP/XMPP, a JSON marker) on publish and delivery. */
  readonly contentType: boolean;
  /** Carries user properties / headers. */
  readonly props: boolean;
  /** Carries a correlation id (MQTT 5 Correlation Data, AMQP/STOMP `correlation-id`). */
  readonly correlationId: boolean;
  /** Carries a reply-to / response topic. */
  readonly replyTo: boolean;
  /**
   * The core user property its message id travels as (docs/metadata.md): two protocols map message
   * ids where they name the same one (AMQP `message-id`; XMPP item ids are `xmpp-item-id`).
   */
  readonly messageId?: string;
  /** Carries an expiry / time to live. */
  readonly expiry: Carries;
  /** Carries a timestamp (AMQP 0-9-1 `timestamp`, AMQP 1.0 `creation-time`). */
  readonly timestamp: Carries;
  /** Carries persistence / QoS. */
  readonly persistent: Carries;
  /** Every publish has this persistence whatever was asked (XMPP items are QoS 1, WAMP events QoS 0). */
  readonly publishesPersistent?: boolean;
  /** Subscribes to a core filter (`grid/a/b/+` or an exact topic); resolves when it is in effect. */
  subscribe(filter: string): Promise<Subscription>;
  /** Publishes on a core topic (`a/b/c`); resolves when the broker has it (where the protocol says). */
  publish(topic: string, m: OutMessage): Promise<void>;
  close(): Promise<void>;
}

/** A queue of received messages with a bounded wait. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.waiter?.();
  }

  async next(ms = 5000, what = "message"): Promise<T> {
    const until = Date.now() + ms;
    while (this.items.length === 0) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.items.shift()!;
  }
}

/** MQTT filter matching (`+` one level, `#` the rest), for clients that share one message stream. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Core topic/filter to the dotted form of AMQP, STOMP and WAMP (`a/+/#` → `a.*.#`). */
export function dotted(filter: string): string {
  return filter.replace(/\//g, ".").replace(/\+/g, "*");
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
