/**
 * The Router: one topic space shared by every protocol (DESIGN.md). It owns sessions, the
 * subscription tree, shared-subscription groups, retained messages and wills, and writes durable
 * changes through the Store. It knows no wire format: adapters call attach/subscribe/publish and
 * the router calls back SessionConnection.deliver().
 */
import type { Store, StoredSession } from "../store/store.js";
import type { Auth } from "./auth.js";
import { Dealer } from "./dealer/index.js";
import { DelayedWills } from "./delayed-wills.js";
import type { Logger } from "./logger.js";
import { detachFromReadBuffer, isExpired, type Message, type QoS } from "./message.js";
import { Presence } from "./presence.js";
import { QueueManager } from "./queues/index.js";
import { admits } from "./recipients.js";
import { RetainedIndex } from "./retained-index.js";
import { SelectorMemo } from "./selector/memo.js";
import {
  type Delivery,
  Session,
  type SessionConnection,
  Subscription,
  type SubscriptionOptions,
} from "./session.js";
import { ShareGroup } from "./share-group.js";
import { Stats } from "./stats.js";
import { parseSharedFilter } from "./topic.js";
import { TopicTree } from "./topic-tree.js";

export const NEVER_EXPIRES = 0xffffffff;
/** The longest delay setTimeout honours. */
export const MAX_TIMER_DELAY = 2_147_483_647;

export interface RouterLimits {
  /** Messages kept per session (queued + in flight); past it the oldest queued one is dropped. */
  maxQueuedMessages: number;
  /** Payload bytes queued per session (0 = no byte bound); past it the oldest queued ones are dropped. */
  maxQueuedBytes: number;
}

export interface RouterOptions {
  store: Store;
  auth: Auth;
  log: Logger;
  limits: RouterLimits;
}

type TreeEntry = Subscription | ShareGroup;

export interface AttachResult {
  session: Session;
  sessionPresent: boolean;
}

export class Router {
  readonly store: Store;
  readonly auth: Auth;
  readonly log: Logger;
  readonly limits: RouterLimits;
  readonly stats = new Stats();
  readonly presence: Presence;
  readonly sessions = new Map<string, Session>();
  /** Named queues with competing consumers (AMQP and STOMP queues are built on them). */
  readonly queues: QueueManager;
  /** Routed RPC: procedure registrations and calls of every protocol. */
  readonly dealer = new Dealer();
  /** Content filters: each distinct selector evaluated at most once per published message. */
  readonly selectors = new SelectorMemo();
  private readonly tree = new TopicTree<TreeEntry>();
  private readonly groups = new Map<string, ShareGroup>();
  private readonly retained = new RetainedIndex<Message>();
  private readonly wills: DelayedWills;
  private seq = 0;
  private closed = false;

  constructor(opts: RouterOptions) {
    this.store = opts.store;
    this.auth = opts.auth;
    this.log = opts.log;
    this.limits = opts.limits;
    this.presence = new Presence(this);
    this.queues = new QueueManager({ store: this.store });
    this.wills = new DelayedWills(this.store, (clientId, message) => this.publishWill(clientId, message));
  }

  /** Rebuilds sessions, queues and retained messages from the store. */
  async start(): Promise<void> {
    const state = await this.store.load();
    this.queues.load(state);
    const now = Date.now();
    for (const m of state.retained) {
      if (!isExpired(m, now)) this.retained.set(m.topic, m);
    }
    for (const s of state.sessions) {
      // A session whose client was connected when the broker stopped has no disconnect time: its
      // expiry counts from this start. One that expired while the broker was down ends here.
      const disconnectedAt = s.disconnectedAt ?? now;
      if (s.expiryInterval !== NEVER_EXPIRES && disconnectedAt + s.expiryInterval * 1000 <= now) {
        this.store.deleteSession(s.clientId);
        continue;
      }
      const session = new Session(s.clientId, s.protocol);
      session.expiryInterval = s.expiryInterval;
      session.disconnectedAt = disconnectedAt;
      this.sessions.set(s.clientId, session);
      for (const sub of s.subscriptions) {
        const { qos, noLocal, retainAsPublished, retainHandling, subscriptionId, selector } = sub;
        this.addSubscription(session, sub.filter, {
          qos,
          noLocal,
          retainAsPublished,
          retainHandling,
          subscriptionId,
          ...(selector === undefined ? {} : { selector }),
        });
      }
      this.scheduleExpiry(session);
    }
    // The stored objects are used as they are (a StoredDelivery is a Delivery with a clientId): a
    // copy per delivery costs seconds and hundreds of MiB with a million queued messages.
    let session: Session | undefined;
    for (const d of state.deliveries) {
      // Deliveries come ordered by seq, so runs of one client are common: skip the map lookup then.
      if (session?.clientId !== d.clientId) session = this.sessions.get(d.clientId);
      if (!session) continue;
      if (d.seq > this.seq) this.seq = d.seq;
      if (d.state === "queued" || d.packetId === undefined) session.pushQueued(d);
      else session.inflight.set(d.packetId, d);
    }
    for (const { clientId, packetId } of state.incomingQos2) {
      this.sessions.get(clientId)?.incomingQos2.add(packetId);
    }
    for (const w of state.wills) this.wills.schedule(w.clientId, w.message, w.dueAt, true);
    for (const g of state.groupMessages) {
      this.seq = Math.max(this.seq, g.seq);
      const group = this.groups.get(g.group);
      if (group) group.backlog.push({ seq: g.seq, message: g.message, qos: g.qos });
      else this.store.deleteGroupMessage(g.group, g.seq); // no member came back with its session
    }
  }

  // ---- sessions -------------------------------------------------------------------------------

  /**
   * Binds a new connection to the session `clientId`, taking it over from a live connection
   * ([MQTT-3.1.4-3]) and discarding old state when `cleanStart` ([MQTT-3.1.2-4]).
   */
  attach(
    clientId: string,
    protocol: string,
    cleanStart: boolean,
    expiryInterval: number,
    conn: SessionConnection,
  ): AttachResult {
    let session = this.sessions.get(clientId);
    if (session?.connection) {
      const old = session.connection;
      session.connection = undefined;
      old.close("taken-over");
    }
    this.wills.cancel(clientId);
    let sessionPresent = false;
    if (session && cleanStart) {
      this.destroySession(session);
      session = undefined;
    }
    if (session) {
      sessionPresent = true;
      if (session.expiryTimer) clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
    } else {
      session = new Session(clientId, protocol);
      this.sessions.set(clientId, session);
    }
    const wasPersistent = session.persistent;
    session.expiryInterval = expiryInterval;
    session.disconnectedAt = undefined;
    session.id = randomSessionId();
    session.connection = conn;
    if (session.persistent) this.saveSession(session);
    // A live session taken over with an expiry (it had none): its deliveries were never written.
    // Write them now, so later writes (updateDelivery when they go in flight) find their rows.
    if (sessionPresent && !wasPersistent && session.persistent) this.saveDeliveries(session);
    this.presence.connected(session);
    return { session, sessionPresent };
  }

  /**
   * The connection of `session` ended. `will` is published now or after its delay unless the
   * session is resumed first ([MQTT-3.1.3-9]); a non-persistent session ends here.
   */
  detach(session: Session, conn: SessionConnection, will?: { message: Message; delaySeconds: number }): void {
    if (session.connection !== conn) {
      // Taken over: the will belongs to the connection that ended. The session goes on, so a
      // delayed will is never due ([MQTT-3.1.3-9]); an undelayed one is published now.
      if (will && will.delaySeconds === 0) this.publishWill(session.clientId, will.message);
      return;
    }
    session.connection = undefined;
    session.disconnectedAt = Date.now();
    this.presence.disconnected(session, conn);
    if (will) {
      if (will.delaySeconds > 0 && session.persistent) {
        // Sent when the delay or the session ends, whichever comes first ([MQTT-3.1.3-9]); kept in
        // the store so a restart in between does not lose it.
        const dueAt = Date.now() + Math.min(will.delaySeconds, session.expiryInterval) * 1000;
        this.wills.schedule(session.clientId, will.message, dueAt);
      } else {
        this.publishWill(session.clientId, will.message);
      }
    }
    if (!session.persistent) {
      this.destroySession(session);
      return;
    }
    this.saveSession(session);
    this.scheduleExpiry(session);
  }

  private publishWill(clientId: string, message: Message): void {
    if (this.closed) return;
    message.timestamp = Date.now();
    this.log.debug("publishing will", { clientId, topic: message.topic });
    this.publish(message);
  }

  private scheduleExpiry(session: Session): void {
    if (session.expiryInterval === NEVER_EXPIRES) return;
    const endsAt = (session.disconnectedAt ?? Date.now()) + session.expiryInterval * 1000;
    const left = endsAt - Date.now();
    // setTimeout fires at once for delays past 2^31-1 ms (24.8 days): wait in steps instead.
    const timer =
      left > MAX_TIMER_DELAY
        ? setTimeout(() => this.scheduleExpiry(session), MAX_TIMER_DELAY)
        : setTimeout(() => this.expire(session), Math.max(0, left));
    timer.unref();
    session.expiryTimer = timer;
  }

  private expire(session: Session): void {
    if (session.connection || this.sessions.get(session.clientId) !== session) return;
    this.log.debug("session expired", { clientId: session.clientId });
    // The will is sent when the session ends, if its delay has not run out yet ([MQTT-3.1.3-9]).
    this.wills.fire(session.clientId);
    this.destroySession(session);
  }

  private destroySession(session: Session): void {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    for (const sub of session.subscriptions.values()) this.removeFromTree(sub);
    session.subscriptions.clear();
    session.clearQueued();
    session.inflight.clear();
    session.incomingQos2.clear();
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    this.store.deleteSession(session.clientId);
  }

  private saveDeliveries(session: Session): void {
    const clientId = session.clientId;
    for (const d of session.inflight.values()) this.store.saveDelivery({ clientId, ...d });
    for (const d of session.queue) this.store.saveDelivery({ clientId, ...d });
  }

  saveSession(session: Session): void {
    if (!session.persistent) return;
    const rec: StoredSession = {
      clientId: session.clientId,
      protocol: session.protocol,
      expiryInterval: session.expiryInterval,
      disconnectedAt: session.disconnectedAt,
      subscriptions: [...session.subscriptions.values()].map((s) => ({ filter: s.filter, ...s.options })),
    };
    this.store.saveSession(rec);
  }

  /** Closes every live connection (server shutdown) and stops timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of this.sessions.values()) {
      const c = s.connection;
      if (c) {
        // Keep the session (persistent ones are saved by detach); its will is not sent on shutdown.
        c.close("shutdown");
      }
    }
    this.closed = true;
    this.wills.stop();
    this.queues.close();
    for (const s of this.sessions.values()) if (s.expiryTimer) clearTimeout(s.expiryTimer);
    this.presence.close();
    await this.store.commit();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- subscriptions -------------------------------------------------------------------------

  /** Adds or replaces a subscription; returns it and whether it existed before ([MQTT-3.8.4-3]). */
  subscribe(
    session: Session,
    filter: string,
    options: SubscriptionOptions,
  ): { sub: Subscription; existed: boolean } {
    const existing = session.subscriptions.get(filter);
    if (existing) {
      existing.setOptions(options);
      this.saveSession(session);
      return { sub: existing, existed: true };
    }
    const sub = this.addSubscription(session, filter, options);
    this.saveSession(session);
    return { sub, existed: false };
  }

  private addSubscription(session: Session, filter: string, options: SubscriptionOptions): Subscription {
    const shared = parseSharedFilter(filter);
    let sub: Subscription;
    if (shared) {
      sub = new Subscription(session, filter, shared.filter, options, shared.group);
      const key = `${shared.group}\u0000${shared.filter}`;
      let group = this.groups.get(key);
      if (!group) {
        group = new ShareGroup(shared.group, shared.filter);
        this.groups.set(key, group);
        this.tree.add(shared.filter, group);
      }
      group.members.push(sub);
    } else {
      sub = new Subscription(session, filter, filter, options);
      this.tree.add(filter, sub);
    }
    session.subscriptions.set(filter, sub);
    return sub;
  }

  unsubscribe(session: Session, filter: string): boolean {
    const sub = session.subscriptions.get(filter);
    if (!sub) return false;
    session.subscriptions.delete(filter);
    this.removeFromTree(sub);
    this.saveSession(session);
    return true;
  }

  private removeFromTree(sub: Subscription): void {
    if (sub.group === undefined) {
      this.tree.remove(sub.filter, sub);
      return;
    }
    const key = `${sub.group}\u0000${sub.topicFilter}`;
    const group = this.groups.get(key);
    if (!group) return;
    const i = group.members.indexOf(sub);
    if (i >= 0) group.members.splice(i, 1);
    if (group.members.length === 0) {
      this.groups.delete(key);
      this.tree.remove(sub.topicFilter, group);
    }
  }

  /** Sends a group's backlog to the session's live shared subscriptions (after it reconnects). */
  drainGroups(session: Session): void {
    for (const sub of session.subscriptions.values()) {
      if (sub.group === undefined) continue;
      const group = this.groups.get(`${sub.group}\u0000${sub.topicFilter}`);
      if (!group) continue;
      const now = Date.now();
      while (group.backlog.length > 0 && session.connection) {
        const e = group.backlog.shift()!;
        this.store.deleteGroupMessage(groupKey(group), e.seq);
        if (isExpired(e.message, now)) continue;
        this.stats.messagesSent++;
        session.messagesOut++;
        session.connection.deliver(e.message, minQoS(e.qos, sub.options.qos), false, sub);
      }
    }
  }

  /** The retained message of one topic name (no wildcards), if any and not expired. */
  retainedOf(topic: string): Message | undefined {
    const m = this.retained.get(topic);
    if (m === undefined || !isExpired(m, Date.now())) return m;
    this.dropRetained(topic);
    return undefined;
  }

  /** Visits retained messages matching a filter (for delivery on subscribe). */
  retainedMatching(filter: string, visit: (m: Message) => void): void {
    const now = Date.now();
    this.retained.match(filter, (_topic, m) => {
      if (isExpired(m, now)) this.dropRetained(m.topic);
      else visit(m);
    });
  }

  /** Forgets an expired retained message, here and in the store. */
  private dropRetained(topic: string): void {
    this.retained.delete(topic);
    this.store.deleteRetained(topic);
  }

  get retainedCount(): number {
    return this.retained.size;
  }

  get subscriptionCount(): number {
    return this.tree.size;
  }

  // ---- publish -------------------------------------------------------------------------------

  /**
   * Routes one message to every matching subscription (hot path: no await, no allocation per
   * subscriber beyond what the adapter needs). Returns the number of subscriptions it matched.
   */
  publish(message: Message): number {
    if (message.retain) this.storeRetained(message);
    let matched = 0;
    this.tree.match(message.topic, (entry) => {
      matched++;
      if (entry.isGroup) this.deliverToGroup(entry, message);
      else this.deliverTo(entry, message);
    });
    this.selectors.release();
    return matched;
  }

  private storeRetained(message: Message): void {
    // An empty retained payload deletes the retained message ([MQTT-3.3.1-10]).
    if (message.payload.length === 0) {
      if (this.retained.delete(message.topic)) this.store.deleteRetained(message.topic);
      return;
    }
    detachFromReadBuffer(message);
    this.retained.set(message.topic, message);
    // $SYS values are recomputed every few seconds: keeping them durable would only cost writes.
    if (!message.topic.startsWith("$SYS/")) this.store.setRetained(message);
  }

  private deliverTo(sub: Subscription, message: Message): void {
    const session = sub.session;
    // No Local: never back to the session that published it ([MQTT-3.8.3-3]).
    if (sub.options.noLocal && message.publisherId === session.clientId) return;
    // Content filter (docs/filters.md): one property test when the subscription has none.
    if (sub.selector !== undefined && !this.selectors.selects(sub.selector, message)) return;
    if (message.recipients !== undefined && !admits(message.recipients, session, message.publisherId)) return;
    const qos = minQoS(message.qos, sub.options.qos);
    // Retain As Published: keep the flag, otherwise clear it on normal delivery ([MQTT-3.3.1-12/13]).
    const retain = sub.options.retainAsPublished ? message.retain : false;
    const conn = session.connection;
    if (conn) {
      this.stats.messagesSent++;
      session.messagesOut++;
      conn.deliver(message, qos, retain, sub);
    } else if (session.persistent && qos > 0) {
      this.enqueue(session, message, qos, retain, sub.options.subscriptionId);
    }
  }

  private deliverToGroup(group: ShareGroup, message: Message): void {
    const member = group.pickLive();
    if (member) {
      this.deliverTo(member, message);
      return;
    }
    if (message.qos > 0 && group.hasPersistentMember()) {
      const key = groupKey(group);
      if (group.backlog.length >= this.limits.maxQueuedMessages) {
        const dropped = group.backlog.shift()!;
        this.store.deleteGroupMessage(key, dropped.seq);
        this.stats.messagesDropped++;
      }
      const entry = { seq: ++this.seq, message, qos: message.qos };
      detachFromReadBuffer(message);
      group.backlog.push(entry);
      this.store.saveGroupMessage({ group: key, ...entry });
    }
  }

  /**
   * Appends to a session's queue. At the bound (messages, or payload bytes) the oldest queued
   * messages are dropped to make room, counted in $SYS/broker/messages/dropped and logged.
   */
  enqueue(
    session: Session,
    message: Message,
    qos: QoS,
    retain: boolean,
    subscriptionId?: number,
  ): Delivery | undefined {
    const { maxQueuedMessages, maxQueuedBytes } = this.limits;
    const size = message.payload.length;
    // At the bound the oldest queued messages make room (in-flight ones are already on their way).
    while (
      session.queue.length > 0 &&
      (session.queue.length + session.inflight.size >= maxQueuedMessages ||
        (maxQueuedBytes > 0 && session.queuedBytes + size > maxQueuedBytes))
    ) {
      this.dropOldest(session);
    }
    if (session.inflight.size >= maxQueuedMessages || (maxQueuedBytes > 0 && size > maxQueuedBytes)) {
      this.countDrop(session);
      return undefined;
    }
    const d: Delivery = { seq: ++this.seq, message, qos, retain, subscriptionId, state: "queued" };
    detachFromReadBuffer(message);
    session.pushQueued(d);
    if (session.persistent) this.store.saveDelivery({ clientId: session.clientId, ...d });
    return d;
  }

  private dropOldest(session: Session): void {
    const old = session.shiftQueued()!;
    if (session.persistent) this.store.deleteDelivery(session.clientId, old.seq);
    this.countDrop(session);
  }

  private countDrop(session: Session): void {
    session.dropped++;
    this.stats.messagesDropped++;
    // One warning per session and thousand drops: a full queue is worth knowing, not a log flood.
    if (session.dropped % 1000 === 1) {
      this.log.warn("session queue full: dropping the oldest messages", {
        clientId: session.clientId,
        dropped: session.dropped,
        queued: session.queue.length,
        queuedBytes: session.queuedBytes,
      });
    }
  }

  /** Allocates the next delivery sequence number (for in-flight records created by adapters). */
  nextSeq(): number {
    return ++this.seq;
  }
}

/** A session id drawn uniformly from [1, 2^53] (WAMP §2.1.2: global scope ids are random). */
function randomSessionId(): number {
  return Math.floor(Math.random() * 2 ** 53) + 1;
}

function groupKey(group: ShareGroup): string {
  return `${group.name}\u0000${group.topicFilter}`;
}

export function minQoS(a: QoS, b: QoS): QoS {
  return a < b ? a : b;
}
