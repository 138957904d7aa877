/**
 * Links (part 2 §2.6): an IncomingLink carries messages from a client's sender to a topic or queue,
 * with credit the broker grants (and withholds under memory pressure); an OutgoingLink serves a
 * client's receiver from a named queue (for `/topic/` a queue of its own, feed.ts), sending only
 * within the credit the client granted.
 */
import type { Consumer } from "../../core/queues/index.js";
import type { AmqpValue } from "./codec/types.js";
import type { TopicFeed } from "./feed.js";

/** Where an incoming link's messages go. */
export type Destination =
  | { kind: "topic"; topic: string }
  | { kind: "queue"; name: string }
  /** `/rpc/<procedure>`: calls (handlers-rpc.ts). */
  | { kind: "rpc"; procedure: string }
  /** `/exchanges/amq.topic` with no key: each message's subject is its routing key. */
  | { kind: "subject" }
  /** The anonymous relay (null target address): each message's `to` is its address. */
  | { kind: "anonymous" };

export class IncomingLink {
  readonly role = "incoming" as const;
  /** Credit the broker granted and the sender has not used. */
  credit = 0;
  /** The sender's delivery-count as we know it (part 2 §2.6.7). */
  deliveryCount: number;
  /** Frames of a multi-frame delivery so far. */
  partial: Buffer[] | undefined;
  partialSize = 0;
  partialId = 0;
  partialSettled = false;
  detached = false;

  constructor(
    readonly name: string,
    readonly handle: number,
    readonly destination: Destination,
    initialDeliveryCount: number,
  ) {
    this.deliveryCount = initialDeliveryCount;
  }
}

export class OutgoingLink {
  readonly role = "outgoing" as const;
  credit = 0;
  deliveryCount = 0;
  drain = false;
  consumer: Consumer | undefined;
  feed: TopicFeed | undefined;
  detached = false;

  constructor(
    readonly name: string,
    readonly handle: number,
    /** snd-settle-mode settled: deliveries go out presettled (at most once). */
    readonly presettled: boolean,
    /** The source as the broker attached it (echoed in the attach). */
    readonly source: AmqpValue,
  ) {}
}

export type Link = IncomingLink | OutgoingLink;
