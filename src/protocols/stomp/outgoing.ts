/**
 * MESSAGE frames to one client. A frame is the per-subscriber part (subscription, message-id, ack,
 * redelivered) followed by a part that is the same for every subscriber of a topic message
 * (destination, properties, content-length, body, NUL). The shared part is encoded once per
 * (message, version) and its bytes are shared (DESIGN.md hot-path rules); both parts go out in one
 * corked write.
 */
import type { EncodedCache, Message } from "../../core/message.js";
import type { StompVersion } from "./codec/frame.js";
import { destinationOfTopic } from "./destination.js";
import { sharedMessageHeaders } from "./message-mapping.js";

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
