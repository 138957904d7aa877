/** Shared helpers for the named-queue tests. */
import { createMessage, type Message, type QoS } from "../../../src/core/message.js";
import type { Consumer, Delivery, NamedQueue } from "../../../src/core/queues/index.js";
import type { ConsumerOptions } from "../../../src/core/queues/types.js";

export function msg(body: string, qos: QoS = 1, expiresAt?: number): Message {
  const properties = expiresAt === undefined ? {} : { expiresAt };
  return createMessage("q/t", Buffer.from(body), qos, false, properties, "pub");
}

export function body(d: Delivery): string {
  return d.message.payload.toString();
}

/** A consumer that records its deliveries. */
export function collect(
  queue: NamedQueue,
  tag: string,
  opts: Partial<ConsumerOptions> = {},
): { consumer: Consumer; got: Delivery[] } {
  const got: Delivery[] = [];
  const consumer = queue.addConsumer({ tag, onMessage: (d) => got.push(d), ...opts });
  return { consumer, got };
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}
