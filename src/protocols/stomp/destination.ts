/**
 * STOMP destinations, following RabbitMQ's STOMP plugin (its "Destinations" guide):
 *
 * | destination                     | meaning                                                      |
 * |---------------------------------|--------------------------------------------------------------|
 * | `/topic/a.b.c`                  | topic `a/b/c` of the shared topic space; `*`, `#` to subscribe |
 * | `/exchange/amq.topic/a.b.c`     | the same                                                     |
 * | `/queue/name`                   | named durable queue, created on first use                    |
 * | `/amq/queue/name`               | an existing queue only                                       |
 * | `/temp-queue/x`                 | in `reply-to` of a SEND: a private reply queue of the sender |
 * | `/reply-queue/id`               | where replies to such a request are sent                     |
 * | `/rpc/procedure`                | SEND: a call of the procedure (docs/rpc.md "STOMP")          |
 */
import { dottedToFilter, dottedToTopic, topicToDotted } from "../../core/dotted-names.js";

export type Destination =
  | { kind: "topic"; name: string }
  | { kind: "queue"; name: string; mustExist: boolean }
  | { kind: "temp-queue"; name: string }
  | { kind: "reply-queue"; name: string }
  | { kind: "rpc"; name: string };

export type ParsedDestination = Destination | { error: string };

const PREFIXES: Array<[string, (rest: string) => Destination]> = [
  ["/topic/", (name) => ({ kind: "topic", name })],
  ["/exchange/amq.topic/", (name) => ({ kind: "topic", name })],
  ["/queue/", (name) => ({ kind: "queue", name, mustExist: false })],
  ["/amq/queue/", (name) => ({ kind: "queue", name, mustExist: true })],
  ["/temp-queue/", (name) => ({ kind: "temp-queue", name })],
  ["/reply-queue/", (name) => ({ kind: "reply-queue", name })],
  ["/rpc/", (name) => ({ kind: "rpc", name })],
];

export function parseDestination(d: string): ParsedDestination {
  for (const [prefix, make] of PREFIXES) {
    if (!d.startsWith(prefix)) continue;
    const rest = d.slice(prefix.length);
    if (rest.length === 0) return { error: `destination '${d}' has no name after ${prefix}` };
    const dest = make(rest);
    // Queues whose names start with "$" are the broker's own (XMPP offline storage, durable
    // subscriptions): a STOMP client may not read or fill them by name.
    if (dest.kind === "queue" && rest.startsWith("$")) {
      return { error: `queue name '${rest}' is reserved: names starting with '$' belong to the broker` };
    }
    return dest;
  }
  if (d.startsWith("/exchange/")) {
    return { error: `exchange in '${d}' not found: only /exchange/amq.topic/ is routed to the topic space` };
  }
  return {
    error: `unknown destination '${d}': use /topic/, /queue/, /amq/queue/, /exchange/amq.topic/, /temp-queue/, /reply-queue/ or /rpc/`,
  };
}

/** Topic of a SEND to `/topic/a.b.c`. */
export function topicOf(name: string): string {
  return dottedToTopic(name);
}

/** Filter of a SUBSCRIBE to `/topic/a.*.#`, or undefined when the wildcards cannot be expressed. */
export function filterOf(name: string): string | undefined {
  return dottedToFilter(name);
}

/** Topics under which replies to a `/temp-queue/` reach their requester, whatever protocol replies. */
export const REPLY_PREFIX = "$reply/stomp/";

/** The destination a message published on `topic` shows to STOMP clients. */
export function destinationOfTopic(topic: string): string {
  if (topic.startsWith(REPLY_PREFIX)) return `/reply-queue/${topic.slice(REPLY_PREFIX.length)}`;
  return `/topic/${topicToDotted(topic)}`;
}

/** Topic of a `/reply-queue/id` destination. */
export function replyTopic(id: string): string {
  return REPLY_PREFIX + id;
}
