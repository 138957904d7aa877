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
}

/** What a subscriber received, decoded back to bytes (docs/<protocol>.md payload mapping). */
export interface InMessage {
  topic: string;
  payload: Buffer;
  contentType?: string;
  props: Record<string, string>;
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
