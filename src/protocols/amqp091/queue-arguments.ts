/**
 * queue.declare arguments (RabbitMQ's x- arguments) -> the core queue's arguments plus the ones the
 * AMQP adapter implements itself (dead-letter exchange, queue expiry, single active consumer). A bad
 * value is 406 PRECONDITION_FAILED, as in RabbitMQ.
 */
import type { QueueArguments } from "../../core/queues/index.js";
import { ReplyCode } from "./codec/constants.js";
import { AmqpError } from "./codec/errors.js";
import type { FieldTable, FieldValue } from "./codec/reader.js";

export interface AmqpQueueArguments {
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  /** x-expires: ms unused before the queue is deleted. */
  expires?: number;
  singleActiveConsumer?: boolean;
}

export interface ParsedQueueArguments {
  core: QueueArguments;
  amqp: AmqpQueueArguments;
}

export function parseQueueArguments(name: string, table: FieldTable | undefined): ParsedQueueArguments {
  const core: QueueArguments = {};
  const amqp: AmqpQueueArguments = {};
  if (!table) return { core, amqp };
  const int = (key: string, v: FieldValue, min: number): number => {
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
      throw new AmqpError(
        ReplyCode.PreconditionFailed,
        `invalid arg '${key}' for queue '${name}': ${String(v)}`,
      );
    }
    return n;
  };
  const str = (key: string, v: FieldValue): string => {
    if (typeof v !== "string")
      throw new AmqpError(ReplyCode.PreconditionFailed, `invalid arg '${key}' for queue '${name}'`);
    return v;
  };
  for (const key of Object.keys(table)) {
    const v = table[key]!;
    switch (key) {
      case "x-message-ttl":
        core.messageTtl = int(key, v, 0);
        break;
      case "x-expires":
        amqp.expires = int(key, v, 1);
        break;
      case "x-max-length":
        core.maxLength = int(key, v, 0);
        break;
      case "x-max-length-bytes":
        core.maxLengthBytes = int(key, v, 0);
        break;
      case "x-delivery-limit":
        core.deliveryLimit = int(key, v, 0);
        break;
      case "x-overflow": {
        const o = str(key, v);
        if (o !== "drop-head" && o !== "reject-publish") {
          throw new AmqpError(
            ReplyCode.PreconditionFailed,
            `invalid arg 'x-overflow' for queue '${name}': ${o} (drop-head and reject-publish are supported)`,
          );
        }
        core.overflow = o;
        break;
      }
      case "x-dead-letter-exchange":
        amqp.deadLetterExchange = str(key, v);
        break;
      case "x-dead-letter-routing-key":
        amqp.deadLetterRoutingKey = str(key, v);
        break;
      case "x-single-active-consumer":
        if (typeof v !== "boolean")
          throw new AmqpError(ReplyCode.PreconditionFailed, `invalid arg '${key}' for queue '${name}'`);
        amqp.singleActiveConsumer = v;
        break;
      case "x-queue-type": {
        const t = str(key, v);
        if (t !== "classic") {
          throw new AmqpError(
            ReplyCode.PreconditionFailed,
            `invalid arg 'x-queue-type' for queue '${name}': only classic queues are supported`,
          );
        }
        break;
      }
      default:
        // Other arguments are accepted and ignored, as RabbitMQ does with arguments it does not know.
        break;
    }
  }
  if (amqp.deadLetterRoutingKey !== undefined && amqp.deadLetterExchange === undefined) {
    throw new AmqpError(
      ReplyCode.PreconditionFailed,
      `invalid arg 'x-dead-letter-routing-key' for queue '${name}': requires x-dead-letter-exchange`,
    );
  }
  return { core, amqp };
}

export function sameAmqpArguments(a: AmqpQueueArguments, b: AmqpQueueArguments): boolean {
  return (
    a.deadLetterExchange === b.deadLetterExchange &&
    a.deadLetterRoutingKey === b.deadLetterRoutingKey &&
    a.expires === b.expires &&
    (a.singleActiveConsumer ?? false) === (b.singleActiveConsumer ?? false)
  );
}
