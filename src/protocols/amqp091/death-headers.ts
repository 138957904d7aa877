/**
 * RabbitMQ's dead-letter headers for AMQP consumers: the `x-death` array (one table per queue and
 * reason, newest first, with a count) and the `x-first-death-*` headers, which retry logic written
 * for RabbitMQ reads (`x-death[0].count`). The core's flat `x-death-reason/-queue/-count` user
 * properties are kept too: they are what other protocols see.
 */
import type { FieldTable, FieldValue } from "./codec/reader.js";

export interface Death {
  reason: string;
  queue: string;
  /** The exchange the message had been published to, and its routing key. */
  exchange: string;
  routingKey: string;
  /** Seconds since the epoch. */
  time: number;
}

function isTable(v: FieldValue | undefined): v is FieldTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function withDeath(headers: FieldTable, d: Death): FieldTable {
  const out: FieldTable = { ...headers };
  const previous = out["x-death"];
  const list: FieldValue[] = Array.isArray(previous) ? [...previous] : [];
  const i = list.findIndex((e) => isTable(e) && e.queue === d.queue && e.reason === d.reason);
  if (i >= 0) {
    const entry = { ...(list[i] as FieldTable) };
    entry.count = (Number(entry.count) || 0) + 1;
    entry.time = d.time;
    list.splice(i, 1);
    list.unshift(entry);
  } else {
    list.unshift({
      count: 1,
      reason: d.reason,
      queue: d.queue,
      time: d.time,
      exchange: d.exchange,
      "routing-keys": [d.routingKey],
    });
  }
  out["x-death"] = list;
  if (out["x-first-death-reason"] === undefined) {
    out["x-first-death-reason"] = d.reason;
    out["x-first-death-queue"] = d.queue;
    out["x-first-death-exchange"] = d.exchange;
  }
  return out;
}
