/**
 * Types shared by the named queues (DESIGN.md "Queue"). Protocol-independent: AMQP 0-9-1, STOMP and
 * MQTT shared subscriptions map their own frames onto these.
 *
 * Persistence rule: a message is written to the store when the queue is durable (and not exclusive)
 * AND the message is persistent. Persistent defaults to `message.qos > 0`; adapters map AMQP
 * delivery-mode 2 and STOMP `persistent:true` to qos 1 (or pass `{ persistent: true }` to publish),
 * as RabbitMQ maps MQTT QoS 1 to persistent.
 */
import type { QueueArguments } from "../../store/store.js";
import type { Message } from "../message.js";
import type { MessageSubject } from "../selector/message-subject.js";
import type { AckScope } from "./ack-scope.js";

export type { QueueArguments } from "../../store/store.js";

export interface DeclareOptions {
  durable: boolean;
  /** Deleted when its last consumer is cancelled (only once it has had one, as RabbitMQ does). */
  autoDelete: boolean;
  /** Owner (e.g. a connection id) of an exclusive queue; deleted by ownerGone(owner), never stored. */
  exclusiveOwner?: string;
  arguments?: QueueArguments;
}

export interface DeleteOptions {
  ifUnused?: boolean;
  ifEmpty?: boolean;
  /** Who asks: checked against an exclusive queue's owner. */
  owner?: string;
}

export interface PublishOptions {
  /** Overrides the default `message.qos > 0`. */
  persistent?: boolean;
}

/**
 * "refused": the queue is at its bound with overflow "reject-publish", or was deleted (AMQP: nack the
 * confirm). A message that expired on arrival is "accepted" and dead-lettered at once.
 */
export type PublishResult = "accepted" | "refused";

/** Why a message left a queue without being acknowledged (RabbitMQ's x-death reasons). */
export type DeadLetterReason = "expired" | "rejected" | "maxlen" | "delivery-limit";

/** Header names written into userProperties of a dead-lettered message. */
export const DEATH_REASON = "x-death-reason";
export const DEATH_QUEUE = "x-death-queue";
export const DEATH_COUNT = "x-death-count";

export interface Delivery {
  /** Ack handle, unique within the AckScope (AMQP: per channel). */
  tag: number;
  message: Message;
  /** True when this message was handed out before (requeued, or unacknowledged at a restart). */
  redelivered: boolean;
  /** 1 on the first delivery. */
  deliveryCount: number;
  queue: string;
  /** The consumer's tag; undefined for get(). */
  consumerTag: string | undefined;
}

export interface ConsumerOptions {
  /** The consumer tag (AMQP consumer-tag, STOMP subscription id). */
  tag: string;
  /**
   * A content filter (docs/filters.md): the consumer gets only messages it selects; the others stay
   * in the queue, in order, for other consumers (as a JMS/Artemis queue selector). Compiled with
   * compileSelector, which throws SelectorError on a bad one: adapters call it first to refuse it.
   */
  selector?: string;
  /** Most unacknowledged deliveries at once; 0 = unlimited. Ignored when noAck. */
  prefetch?: number;
  /** Auto-ack: the message is gone once handed to onMessage (AMQP no-ack, STOMP ack:auto). */
  noAck?: boolean;
  /** The only consumer of the queue (AMQP basic.consume exclusive). */
  exclusive?: boolean;
  /** Who consumes: checked against an exclusive queue's owner. */
  owner?: string;
  /**
   * Start paused; setFlow(true) starts it. Lets an adapter send its reply (AMQP consume-ok) before
   * the first delivery, and apply its own flow state before anything is handed over.
   */
  paused?: boolean;
  /**
   * Where the delivery tags come from and where acks go: one per AMQP channel (so `multiple` spans
   * every consumer and get of the channel), one per STOMP subscription (client mode is cumulative per
   * subscription). Omitted: a scope of its own.
   */
  scope?: AckScope;
  /** Called synchronously, in queue order. May ack, cancel or publish re-entrantly. */
  onMessage(delivery: Delivery): void;
  /** The broker ended the consumer (the queue was deleted): AMQP server-side basic.cancel. */
  onCancel?(reason: "deleted"): void;
}

/** A message that left a queue without an ack; `deadLettered` says whether another queue took it. */
export interface DiscardEvent {
  queue: string;
  message: Message;
  reason: DeadLetterReason;
  deadLettered: boolean;
}

/** A message held by a queue, ready or unacknowledged. */
export interface QueueEntry {
  /** Monotonic per queue: the order, and the store key with the queue name. */
  readonly seq: number;
  readonly message: Message;
  /** Payload bytes, counted against maxLengthBytes (RabbitMQ counts bodies only). */
  readonly size: number;
  /** ms since the epoch; Infinity = never. min(message expiry, enqueue time + messageTtl). */
  readonly expiresAt: number;
  readonly persistent: boolean;
  deliveryCount: number;
  /** Whether the store holds it now (so removal knows whether to write). */
  stored: boolean;
  /** What selectors read of it, made on first use (queues with selector consumers only). */
  subject?: MessageSubject;
}
