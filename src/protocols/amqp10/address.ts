/**
 * AMQP 1.0 addresses (DESIGN.md canonical names; RabbitMQ 4's address v2 forms):
 *
 * | address                          | node                                             |
 * |----------------------------------|--------------------------------------------------|
 * | `/topic/a.b.c`                   | topic `a/b/c` of the shared topic space (`*`, `#` to receive) |
 * | `/exchanges/amq.topic/a.b.c`     | the same                                         |
 * | `/exchanges/amq.topic`           | target only: the routing key is the message's subject |
 * | `/queue/name`, `/queues/name`    | the named durable queue, created on first use    |
 * | null target address              | the anonymous relay: each message's `to` is its address |
 */
import { dottedToFilter, dottedToTopic } from "../../core/dotted-names.js";

export type Address =
  | { kind: "topic"; name: string }
  | { kind: "queue"; name: string }
  | { kind: "exchange-subject" }
  /** `/rpc/<procedure>`: each message is a call through the core Dealer (docs/rpc.md). */
  | { kind: "rpc"; procedure: string }
  | { kind: "error"; message: string };

export function parseAddress(a: string): Address {
  let rest: string | undefined;
  if (a.startsWith("/topic/")) rest = a.slice(7);
  else if (a.startsWith("/exchanges/amq.topic/")) rest = a.slice(21);
  if (rest !== undefined) {
    return rest === ""
      ? { kind: "error", message: `address '${a}' has no topic` }
      : { kind: "topic", name: rest };
  }
  if (a === "/exchanges/amq.topic") return { kind: "exchange-subject" };
  if (a.startsWith("/rpc/") && a.length > 5) return { kind: "rpc", procedure: a.slice(5) };
  let q: string | undefined;
  if (a.startsWith("/queue/")) q = a.slice(7);
  else if (a.startsWith("/queues/")) q = a.slice(8);
  if (q !== undefined) {
    if (q === "") return { kind: "error", message: `address '${a}' has no queue name` };
    const name = decodeURIComponentSafe(q);
    // Queues whose names start with "$" are the broker's own (XMPP offline storage, durable feeds).
    if (name.startsWith("$")) {
      return {
        kind: "error",
        message: `queue name '${name}' is reserved: names starting with '$' belong to the broker`,
      };
    }
    return { kind: "queue", name };
  }
  return {
    kind: "error",
    message: `unknown address '${a}': use /topic/, /exchanges/amq.topic/, /queue/ or /queues/`,
  };
}

/** RabbitMQ 4 percent-encodes queue names in `/queues/`; a name that is not valid encoding is kept. */
function decodeURIComponentSafe(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Topic of a message sent to `/topic/a.b.c`; undefined when it holds wildcards. */
export function topicOfName(name: string): string | undefined {
  const t = dottedToTopic(name);
  return t.includes("+") || t.includes("#") || name.split(".").some((w) => w === "*" || w === "#")
    ? undefined
    : t;
}

/** Filter of a receiving link on `/topic/a.*.#`, or undefined when the wildcards cannot be expressed. */
export function filterOfName(name: string): string | undefined {
  return dottedToFilter(name);
}
