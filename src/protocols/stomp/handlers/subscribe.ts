/**
 * SUBSCRIBE (STOMP 1.2 §"SUBSCRIBE"): `/topic/` subscriptions go into the shared topic tree,
 * `/queue/` and `/amq/queue/` ones become consumers of the named queue, `durable:true` topic
 * subscriptions a consumer of a durable queue fed from the tree (durable.ts).
 */
import { subscribeScope } from "../../../core/auth.js";
import { QueueError } from "../../../core/queues/index.js";
import { type CompiledSelector, compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import { validateTopicFilter } from "../../../core/topic.js";
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { filterOf, parseDestination } from "../destination.js";
import { subscriptionQueue } from "../durable.js";
import { required, StompFrameError } from "../errors.js";
import { sendQueueMessage } from "../outgoing.js";
import { type AckMode, StompSubscription } from "../subscription.js";
import { findOrCreate, queueAclName } from "./send.js";

const MAX_TOPIC_LEVELS = 128;
const ACK_MODES: ReadonlySet<string> = new Set(["auto", "client", "client-individual"]);

export function handleSubscribe(c: StompConnection, f: StompFrame): void {
  const destination = required(header(f, "destination"), "destination", "SUBSCRIBE");
  // 1.0 makes the id optional; the destination then identifies the subscription.
  const id =
    c.version === "1.0" ? (header(f, "id") ?? destination) : required(header(f, "id"), "id", "SUBSCRIBE");
  if (c.subscriptions.has(id)) {
    throw new StompFrameError(
      "duplicate subscription id",
      `subscription id '${id}' is already in use on this connection`,
    );
  }
  if (c.subscriptions.size >= c.options.maxSubscriptions) {
    throw new StompFrameError(
      "too many subscriptions",
      `at most ${c.options.maxSubscriptions} subscriptions per connection`,
    );
  }
  const ack = header(f, "ack") ?? "auto";
  if (!ACK_MODES.has(ack) || (c.version === "1.0" && ack === "client-individual")) {
    throw new StompFrameError(
      "bad ack mode",
      `ack must be auto, client or client-individual (1.1+), not '${ack}'`,
    );
  }
  const prefetch = parsePrefetch(header(f, "prefetch-count") ?? header(f, "activemq.prefetchSize"));
  const durable = header(f, "durable") === "true" || header(f, "persistent") === "true";
  const d = parseDestination(destination);
  if ("error" in d) throw new StompFrameError("bad destination", d.error);
  const selectorText = header(f, "selector");
  const selector = selectorText === undefined ? undefined : compileFilter(selectorText);
  const number = ++c.nextSubscriptionNumber;
  const principal = c.principal!;

  if (d.kind === "topic") {
    const filter = filterOf(d.name);
    const invalid =
      filter === undefined
        ? "wildcards must be whole words, and # only last"
        : validateTopicFilter(filter, MAX_TOPIC_LEVELS);
    if (filter === undefined || invalid)
      throw new StompFrameError("bad destination", `'${destination}': ${invalid}`);
    const scope = subscribeScope(c.router.auth, principal, filter);
    if (scope === "none")
      throw new StompFrameError("access refused", `not authorized to subscribe to '${destination}'`);
    const kind = durable ? "durable" : ack === "auto" && prefetch === 0 ? "topic" : "topic-acked";
    const sub = new StompSubscription(id, number, destination, ack as AckMode, kind, c.version);
    sub.readChecked = scope === "some";
    if (kind === "durable") {
      const name = c.durable.queueName(c.clientName, id);
      c.durable.ensure(name, filter, principal, sub.readChecked, selectorText);
      sub.durableQueue = name;
      register(c, sub);
      consume(c, sub, name, prefetch);
      return;
    }
    sub.filter = filter;
    sub.selector = selector;
    if (kind === "topic-acked") {
      sub.feedQueue = c.router.queues.declare(`stomp-subscription-${c.id}-${number}`, {
        ...subscriptionQueue(c.router, false),
        exclusiveOwner: c.id,
      });
      c.ownsQueues = true;
    }
    register(c, sub);
    const list = c.topicSubscriptions.get(filter);
    if (list) list.push(sub);
    else {
      c.topicSubscriptions.set(filter, [sub]);
      c.router.subscribe(c.session!, filter, {
        qos: 1,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 2,
      });
    }
    if (sub.feedQueue) consume(c, sub, sub.feedQueue.name, prefetch);
    return;
  }
  if (d.kind !== "queue") {
    throw new StompFrameError("bad destination", `cannot subscribe to '${destination}'`);
  }
  if (!c.router.auth.authorize(principal, "subscribe", queueAclName(d.name))) {
    throw new StompFrameError("access refused", `not authorized to subscribe to '${destination}'`);
  }
  findOrCreate(c, d.name, d.mustExist, destination);
  const sub = new StompSubscription(id, number, destination, ack as AckMode, "queue", c.version);
  register(c, sub);
  // A selector makes it a filtering consumer: what it does not select stays queued for others.
  consume(c, sub, d.name, prefetch, selectorText);
}

function register(c: StompConnection, sub: StompSubscription): void {
  c.subscriptions.set(sub.id, sub);
  c.subscriptionsByNumber.set(sub.number, sub);
}

function consume(
  c: StompConnection,
  sub: StompSubscription,
  queueName: string,
  prefetch: number,
  selector?: string,
): void {
  const queue = c.router.queues.find(queueName)!;
  try {
    sub.consumer = queue.addConsumer({
      ...(selector === undefined ? {} : { selector }),
      tag: sub.id,
      prefetch,
      noAck: !sub.needsAck,
      owner: c.id,
      onMessage: (d) => sendQueueMessage(c, sub, d),
      onCancel: () => {
        // The queue was deleted under the subscription (by AMQP, an admin): tell the client.
        c.fail("queue deleted", `the queue behind subscription '${sub.id}' was deleted`);
      },
    });
  } catch (err) {
    c.subscriptions.delete(sub.id);
    c.subscriptionsByNumber.delete(sub.number);
    if (err instanceof QueueError)
      throw new StompFrameError(err.code === "NOT_FOUND" ? "not found" : "resource locked", err.message);
    throw err;
  }
}

/** RabbitMQ's `prefetch-count` (ActiveMQ's `activemq.prefetchSize`): unacked messages at once; 0 = no limit. */
function parsePrefetch(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,9}$/.test(value)) {
    throw new StompFrameError(
      "bad prefetch-count",
      `prefetch-count must be a non-negative integer, not '${value}'`,
    );
  }
  return Number(value);
}

/** The `selector` header compiled (cached per text), or an ERROR frame with the position. */
function compileFilter(text: string): CompiledSelector {
  try {
    return compileSelector(text);
  } catch (err) {
    if (err instanceof SelectorError) throw new StompFrameError("invalid selector", err.message);
    throw err;
  }
}
