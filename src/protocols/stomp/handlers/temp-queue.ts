/**
 * `/temp-queue/x` in a reply-to header (RabbitMQ's temporary reply queues): the sender gets a
 * private reply destination `/reply-queue/<id>`, subscribed for it automatically; the replies are
 * delivered with `subscription:/temp-queue/x`. The reply destination is a topic of the shared space
 * (`$reply/stomp/<id>`), so a responder of any protocol (an MQTT 5 client answering on the
 * Response Topic) reaches the requester. It lives as long as the connection.
 */
import type { StompConnection } from "../connection.js";
import { replyTopic } from "../destination.js";
import { StompSubscription } from "../subscription.js";

export function ensureTempQueue(c: StompConnection, destination: string): string {
  let id = c.tempQueues.get(destination);
  if (id === undefined) {
    id = `${c.id}-${c.tempQueues.size + 1}`;
    c.tempQueues.set(destination, id);
    const topic = replyTopic(id);
    const sub = new StompSubscription(
      destination,
      ++c.nextSubscriptionNumber,
      destination,
      "auto",
      "temp",
      c.version,
    );
    sub.filter = topic;
    c.topicSubscriptions.set(topic, [sub]);
    c.router.subscribe(c.session!, topic, {
      qos: 1,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 2,
    });
  }
  return replyTopic(id);
}
