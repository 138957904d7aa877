/** One SUBSCRIBE of one STOMP connection, whatever serves it (the topic tree or a named queue). */

import type { Consumer, NamedQueue } from "../../core/queues/index.js";
import type { CompiledSelector } from "../../core/selector/compile.js";
import { escapeHeader, flattenHeader } from "./codec/escape.js";
import type { StompVersion } from "./codec/frame.js";

export type AckMode = "auto" | "client" | "client-individual";

/**
 * - `topic`: `/topic/` with ack:auto, fed straight from the topic tree (the transient Message Service);
 * - `topic-acked`: `/topic/` with client acks, through an exclusive queue of its own (as RabbitMQ does);
 * - `durable`: `/topic/` with `durable:true`, through a durable queue that outlives the connection;
 * - `queue`: `/queue/` or `/amq/queue/`, a consumer of the named queue;
 * - `temp`: the private reply queue behind a `/temp-queue/` reply-to.
 */
export type SubscriptionKind = "topic" | "topic-acked" | "durable" | "queue" | "temp";

export class StompSubscription {
  /** Topic filter in the router (topic kinds and temp). */
  filter: string | undefined;
  /** Queue consumer (every kind but topic and temp). */
  consumer: Consumer | undefined;
  /** The exclusive queue of a topic-acked subscription, fed from the topic tree by the connection. */
  feedQueue: NamedQueue | undefined;
  /** The durable queue's name (durable kind). */
  durableQueue: string | undefined;
  /** A subscription only partly allowed by the ACL: each message's topic is checked before it is sent. */
  readChecked = false;
  /** Content filter (`selector` header, docs/filters.md); checked per message in connection.deliver. */
  selector: CompiledSelector | undefined;
  /** "MESSAGE\nsubscription:<id>\nmessage-id:" in this connection's escaping. */
  readonly prefix: string;

  constructor(
    readonly id: string,
    /** Number within the connection: the first part of every ack id of this subscription. */
    readonly number: number,
    /** As the client wrote it; shown in `destination` of messages from a queue. */
    readonly destination: string,
    readonly ackMode: AckMode,
    readonly kind: SubscriptionKind,
    version: StompVersion,
  ) {
    const esc = version === "1.0" ? flattenHeader(id) : escapeHeader(id, version);
    this.prefix = `MESSAGE\nsubscription:${esc}\nmessage-id:`;
  }

  get needsAck(): boolean {
    return this.ackMode !== "auto";
  }
}
