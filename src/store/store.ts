/**
 * The Store: where durable state lives (DESIGN.md "Store"). The router keeps its working state in
 * memory and writes every durable change through this interface; at start it rebuilds from load().
 *
 * Writes are synchronous enqueues (no await on the hot path); commit() resolves once everything
 * written before it is durable. Adapters that promise durability (MQTT PUBACK/PUBREC) acknowledge
 * after the commit that covers the message, so one commit per tick serves many messages
 * (group commit). Implementations: memory (this issue), SQLite (embedded default), cluster.
 */
import type { Message, QoS } from "../core/message.js";

export interface StoredSubscription {
  filter: string; // as subscribed, including a "$share/group/" prefix
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId?: number;
}

export interface StoredSession {
  clientId: string;
  protocol: string;
  /** Seconds the session outlives its connection; 0xFFFFFFFF = never expires. */
  expiryInterval: number;
  /** When the last connection ended (ms), undefined while connected. */
  disconnectedAt?: number;
  subscriptions: StoredSubscription[];
}

/** A message waiting in a session's queue, or in flight to it. */
export interface StoredDelivery {
  clientId: string;
  /** Monotonic per store: keeps queue order across restarts. */
  seq: number;
  message: Message;
  qos: QoS;
  retain: boolean;
  subscriptionId?: number;
  /** Packet id once sent; undefined while only queued. */
  packetId?: number;
  /** "publish" = sent, waiting PUBACK/PUBREC; "pubrel" = PUBREC received, PUBREL sent. */
  state: "queued" | "publish" | "pubrel";
}

export interface StoredState {
  sessions: StoredSession[];
  deliveries: StoredDelivery[];
  retained: Message[];
  /** Incoming QoS 2 packet ids received but not yet released, per client ([MQTT-4.3.3]). */
  incomingQos2: Array<{ clientId: string; packetId: number }>;
}

export interface Store {
  readonly kind: string;
  load(): Promise<StoredState>;

  saveSession(session: StoredSession): void;
  deleteSession(clientId: string): void;

  /** Adds or replaces the delivery (clientId, seq). */
  saveDelivery(delivery: StoredDelivery): void;
  deleteDelivery(clientId: string, seq: number): void;

  setRetained(message: Message): void;
  deleteRetained(topic: string): void;

  addIncomingQos2(clientId: string, packetId: number): void;
  deleteIncomingQos2(clientId: string, packetId: number): void;

  /** Resolves when all writes made before this call are durable. */
  commit(): Promise<void>;
  close(): Promise<void>;
}
