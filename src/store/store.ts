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
  /** Content filter text (docs/filters.md). */
  selector?: string;
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

/** A will message waiting for its will delay (MQTT 5 §3.1.3.2.2), keyed by client id. */
export interface StoredWill {
  clientId: string;
  message: Message;
  /** When it is to be published (ms since the epoch). */
  dueAt: number;
}

/** A message waiting in a shared-subscription group with no live member, keyed by (group, seq). */
export interface StoredGroupMessage {
  /** The group key: share name and filter, as `<group>\u0000<filter>`. */
  group: string;
  seq: number;
  message: Message;
  qos: QoS;
}

/** How a named queue behaves (RabbitMQ's queue arguments, named the same way where they exist). */
export interface QueueArguments {
  /** Most ready messages kept (unacknowledged ones do not count, as in RabbitMQ); absent = unbounded. */
  maxLength?: number;
  /** Most payload bytes kept; absent = unbounded. */
  maxLengthBytes?: number;
  /** At the bound: drop (or dead-letter) the oldest ready message, or refuse the new one. */
  overflow?: "drop-head" | "reject-publish";
  /** Per-queue message time to live in ms. */
  messageTtl?: number;
  /** Where expired, rejected (without requeue) and dropped messages go: another queue's name. */
  deadLetterQueue?: string;
  /** Delivery attempts after which a message is dead-lettered instead of redelivered. */
  deliveryLimit?: number;
}

/** A named queue with competing consumers (AMQP and STOMP queues, MQTT shared groups later). */
export interface StoredQueue {
  name: string;
  /** Non-durable queues are not written to the store at all; kept here for completeness. */
  durable: boolean;
  autoDelete: boolean;
  arguments: QueueArguments;
  createdAt: number;
}

/**
 * A message in a named queue, keyed by (queue, seq). Unacknowledged messages are not marked: after a
 * restart every stored message is ready again; `deliveryCount` > 0 marks it redelivered.
 */
export interface StoredQueueMessage {
  queue: string;
  seq: number;
  message: Message;
  deliveryCount: number;
}

export interface StoredState {
  sessions: StoredSession[];
  deliveries: StoredDelivery[];
  retained: Message[];
  /** Incoming QoS 2 packet ids received but not yet released, per client ([MQTT-4.3.3]). */
  incomingQos2: Array<{ clientId: string; packetId: number }>;
  wills: StoredWill[];
  /** Ordered by seq. */
  groupMessages: StoredGroupMessage[];
  queues: StoredQueue[];
  /** Ordered by (queue, seq). */
  queueMessages: StoredQueueMessage[];
}

export interface Store {
  readonly kind: string;
  load(): Promise<StoredState>;

  saveSession(session: StoredSession): void;
  deleteSession(clientId: string): void;

  /** Adds or replaces the delivery (clientId, seq). */
  saveDelivery(delivery: StoredDelivery): void;
  deleteDelivery(clientId: string, seq: number): void;
  /**
   * Sets the packet id and state of the stored delivery (clientId, seq), and nothing else: the hot
   * path when a queued delivery goes in flight (packet id, "publish") and when PUBREC arrives
   * ("pubrel"), so the row (payload included) is not rewritten. `packetId` undefined clears it. Does
   * nothing if there is no such delivery (never saved, or deleted). Same ordering as every other
   * write: it applies after the writes made before it and before those made after it.
   */
  updateDelivery(
    clientId: string,
    seq: number,
    packetId: number | undefined,
    state: "queued" | "publish" | "pubrel",
  ): void;

  setRetained(message: Message): void;
  deleteRetained(topic: string): void;

  addIncomingQos2(clientId: string, packetId: number): void;
  deleteIncomingQos2(clientId: string, packetId: number): void;

  /** Adds or replaces the pending will of a client. */
  saveWill(will: StoredWill): void;
  deleteWill(clientId: string): void;

  saveGroupMessage(message: StoredGroupMessage): void;
  deleteGroupMessage(group: string, seq: number): void;

  /** Adds or replaces a queue definition. */
  saveQueue(queue: StoredQueue): void;
  /** Deletes the queue and every message in it. */
  deleteQueue(name: string): void;
  /** Adds or replaces the message (queue, seq). */
  saveQueueMessage(message: StoredQueueMessage): void;
  deleteQueueMessage(queue: string, seq: number): void;

  /** Resolves when all writes made before this call are durable. */
  commit(): Promise<void>;
  close(): Promise<void>;
}
