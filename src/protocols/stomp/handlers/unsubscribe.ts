/**
 * UNSUBSCRIBE (STOMP 1.2 §"UNSUBSCRIBE"). Unacknowledged messages of a queue subscription go back to
 * the queue, flagged redelivered. A durable topic subscription stays (and keeps collecting messages)
 * unless the frame says `durable:true` (RabbitMQ) or `persistent:true`: then it is deleted.
 */
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { required, StompFrameError } from "../errors.js";
import type { StompSubscription } from "../subscription.js";

export function handleUnsubscribe(c: StompConnection, f: StompFrame): void {
  const id =
    c.version === "1.0"
      ? (header(f, "id") ?? required(header(f, "destination"), "id' or 'destination", "UNSUBSCRIBE"))
      : required(header(f, "id"), "id", "UNSUBSCRIBE");
  const sub = c.subscriptions.get(id);
  if (!sub)
    throw new StompFrameError("unknown subscription", `no subscription with id '${id}' on this connection`);
  const forget = header(f, "durable") === "true" || header(f, "persistent") === "true";
  closeSubscription(c, sub, forget);
}

/** Ends one subscription; `forgetDurable` also deletes a durable subscription and its queue. */
export function closeSubscription(c: StompConnection, sub: StompSubscription, forgetDurable: boolean): void {
  c.subscriptions.delete(sub.id);
  c.subscriptionsByNumber.delete(sub.number);
  sub.consumer?.cancel({ requeueUnacked: true });
  sub.consumer = undefined;
  if (sub.feedQueue) {
    // Auto-delete: cancelling its only consumer removed it already, unless it never had one.
    if (c.router.queues.find(sub.feedQueue.name) === sub.feedQueue)
      c.router.queues.delete(sub.feedQueue.name);
    sub.feedQueue = undefined;
  }
  if (sub.durableQueue && forgetDurable) c.durable.remove(sub.durableQueue);
  const filter = sub.filter;
  if (filter === undefined || sub.kind === "temp") return;
  const list = c.topicSubscriptions.get(filter);
  if (!list) return;
  const i = list.indexOf(sub);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) {
    c.topicSubscriptions.delete(filter);
    if (c.session && c.state !== "closed") c.router.unsubscribe(c.session, filter);
  }
}
