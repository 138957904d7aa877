/**
 * SEND (STOMP 1.2 §"SEND"): to a topic of the shared topic space, or into a named queue.
 * `persistent:true` makes the message QoS 1 (stored by a durable queue, as RabbitMQ does).
 */
import { createMessage, type Message } from "../../../core/message.js";
import { QueueError } from "../../../core/queues/index.js";
import { validateTopicName } from "../../../core/topic.js";
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { filterOf, parseDestination, REPLY_PREFIX, replyTopic, topicOf } from "../destination.js";
import { required, StompFrameError } from "../errors.js";
import { propertiesFromSend } from "../message-mapping.js";
import { sendCall } from "../rpc.js";
import { ensureTempQueue } from "./temp-queue.js";

/** Topic levels allowed in a destination (MQTT's default limit). */
const MAX_TOPIC_LEVELS = 128;

export function handleSend(c: StompConnection, f: StompFrame): void {
  const destination = required(header(f, "destination"), "destination", "SEND");
  const d = parseDestination(destination);
  if ("error" in d) throw new StompFrameError("bad destination", d.error);
  const now = Date.now();
  const mapped = propertiesFromSend(f.headers, now, (to) => replyToTopic(c, to));
  const principal = c.principal!;

  if (d.kind === "topic" || d.kind === "reply-queue") {
    const topic = d.kind === "topic" ? topicOf(d.name) : replyTopic(d.name);
    const invalid = validateTopicName(topic, MAX_TOPIC_LEVELS);
    if (invalid) throw new StompFrameError("bad destination", `'${destination}': ${invalid}`);
    if (!c.router.auth.authorize(principal, "publish", topic)) throw notAuthorized("publish to", destination);
    const message = createMessage(
      topic,
      f.body,
      mapped.persistent ? 1 : 0,
      false,
      mapped.properties,
      c.id,
      now,
    );
    message.publisherUser = principal.username;
    c.router.publish(message);
    return;
  }
  if (d.kind === "rpc") return sendCall(c, d.name, f.body, mapped.properties, mapped.persistent);
  if (d.kind === "temp-queue") {
    throw new StompFrameError("bad destination", `${destination} is only valid in a reply-to header`);
  }
  // Authorized before the queue is looked up: a refused client neither creates queues nor learns which exist.
  if (!c.router.auth.authorize(principal, "publish", queueAclName(d.name))) {
    throw notAuthorized("publish to", destination);
  }
  const queue = findOrCreate(c, d.name, d.mustExist, destination);
  const message: Message = createMessage(
    d.name,
    f.body,
    mapped.persistent ? 1 : 0,
    false,
    mapped.properties,
    c.id,
    now,
  );
  message.publisherUser = principal.username;
  if (queue.publish(message, { persistent: mapped.persistent }) === "refused") {
    throw new StompFrameError(
      "message refused",
      `queue '${d.name}' is full (overflow reject-publish) and refused the message`,
    );
  }
  const limit = c.options.queueFlowLimit;
  if (limit > 0 && queue.messageCount > limit) c.throttle(d.name);
}

/** `/queue/x` creates x (durable, like RabbitMQ); `/amq/queue/x` only uses an existing x. */
export function findOrCreate(c: StompConnection, name: string, mustExist: boolean, destination: string) {
  const existing = c.router.queues.find(name);
  if (existing && !existing.isDeleted) {
    try {
      existing.checkOwner(c.id);
    } catch (err) {
      if (err instanceof QueueError) throw new StompFrameError("resource locked", err.message);
      throw err;
    }
    return existing;
  }
  if (mustExist)
    throw new StompFrameError("not found", `no queue '${name}' (${destination} uses existing queues only)`);
  return c.router.queues.declare(name, { durable: true, autoDelete: false });
}

/** The name the one ACL sees for a named queue (docs/stomp.md): `$queue/<name>`. */
export function queueAclName(name: string): string {
  return `$queue/${name}`;
}

/** reply-to -> responseTopic: a topic, a reply queue, or this connection's new temp queue. */
function replyToTopic(c: StompConnection, to: string): string | undefined {
  const d = parseDestination(to);
  if ("error" in d) return undefined;
  if (d.kind === "topic") return filterOf(d.name) === topicOf(d.name) ? topicOf(d.name) : undefined;
  if (d.kind === "reply-queue") return REPLY_PREFIX + d.name;
  if (d.kind === "temp-queue") return ensureTempQueue(c, to);
  return undefined;
}

function notAuthorized(what: string, destination: string): StompFrameError {
  return new StompFrameError("access refused", `not authorized to ${what} '${destination}'`);
}
