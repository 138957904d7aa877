/**
 * MESSAGE frames to one client. A frame is the per-subscriber part (subscription, message-id, ack,
 * redelivered) followed by a part that is the same for every subscriber of a topic message
 * (destination, properties, content-length, body, NUL). The shared part is encoded once per
 * (message, version) and its bytes are shared (DESIGN.md hot-path rules); both parts go out in one
 * corked write.
 */
import type { EncodedCache, Message } from "../../core/message.js";
import type { Delivery as QueueDelivery } from "../../core/queues/index.js";
import type { StompVersion } from "./codec/frame.js";
import type { StompConnection } from "./connection.js";
import { destinationOfTopic } from "./destination.js";
import { sharedMessageHeaders } from "./message-mapping.js";
import type { StompSubscription } from "./subscription.js";

const CACHE_KEYS: Record<StompVersion, string> = { "1.0": "stomp10", "1.1": "stomp11", "1.2": "stomp12" };

/** Shared headers + content-length + blank line + body + NUL. */
export function encodeTail(message: Message, destination: string, version: StompVersion): Buffer {
  const head = `${sharedMessageHeaders(message, destination, version)}content-length:${message.payload.length}\n\n`;
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + message.payload.length + 1);
  out.write(head, 0, "utf8");
  message.payload.copy(out, headLength);
  out[out.length - 1] = 0;
  return out;
}

/** The tail of a message routed by topic (its destination is its topic), cached on the message. */
export function topicTail(message: Message, version: StompVersion): Buffer {
  const key = CACHE_KEYS[version];
  let cache: EncodedCache | undefined = message.encoded;
  const hit = cache?.get(key);
  if (hit !== undefined) return hit;
  const tail = encodeTail(message, destinationOfTopic(message.topic), version);
  if (cache === undefined) {
    cache = new Map<string, Buffer>();
    message.encoded = cache;
  }
  cache.set(key, tail);
  return tail;
}

/** A MESSAGE from the topic tree, straight out (ack:auto): dropped for a reader that is too slow. */
export function sendTopicMessage(c: StompConnection, sub: StompSubscription, message: Message): void {
  const stats = c.router.stats;
  if (c.stream.writableLength > c.options.maxBufferedBytes) {
    stats.messagesDropped++;
    return;
  }
  stats.messagesSent++;
  c.write(Buffer.from(`${sub.prefix}${c.nextMessageId()}\n`));
  c.write(topicTail(message, c.version));
}

/** A MESSAGE from a named queue (a /queue/ subscription, or the queue behind a topic subscription). */
export function sendQueueMessage(c: StompConnection, sub: StompSubscription, d: QueueDelivery): void {
  c.router.stats.messagesSent++;
  if (c.session) c.session.messagesOut++;
  const ackId = `${sub.number}-${d.tag}`;
  let head = `${sub.prefix}${ackId}\n`;
  if (sub.needsAck && c.version === "1.2") head += `ack:${ackId}\n`;
  if (d.redelivered) head += "redelivered:true\n";
  c.write(Buffer.from(head));
  // A /queue/ shows its own destination; the queue behind a topic subscription shows the topic.
  c.write(
    sub.kind === "queue"
      ? encodeTail(d.message, sub.destination, c.version)
      : topicTail(d.message, c.version),
  );
}
