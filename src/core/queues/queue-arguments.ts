/**
 * Checking and comparing queue arguments. A declare that names an existing queue must ask for the
 * same settings (AMQP queue.declare equivalence, else PRECONDITION_FAILED).
 */
import { QueueError } from "./errors.js";
import type { QueueArguments } from "./types.js";

const COUNTS = ["maxLength", "maxLengthBytes", "messageTtl", "deliveryLimit"] as const;
const KEYS = [...COUNTS, "overflow", "deadLetterQueue"] as const;

/** A copy holding only the known, defined keys; throws PRECONDITION_FAILED on a bad value. */
export function normalizeArguments(args: QueueArguments | undefined): QueueArguments {
  const out: QueueArguments = {};
  if (!args) return out;
  for (const key of COUNTS) {
    const v = args[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0) {
      throw new QueueError("PRECONDITION_FAILED", `queue argument ${key} must be a non-negative integer`);
    }
    out[key] = v;
  }
  if (args.overflow !== undefined) {
    if (args.overflow !== "drop-head" && args.overflow !== "reject-publish") {
      throw new QueueError(
        "PRECONDITION_FAILED",
        `queue argument overflow must be drop-head or reject-publish`,
      );
    }
    out.overflow = args.overflow;
  }
  if (args.deadLetterQueue !== undefined) out.deadLetterQueue = args.deadLetterQueue;
  return out;
}

export function sameArguments(a: QueueArguments, b: QueueArguments): boolean {
  return KEYS.every((k) => a[k] === b[k]);
}
