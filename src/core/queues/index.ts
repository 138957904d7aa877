/** Named queues with competing consumers (DESIGN.md "Queue"): the public surface for adapters. */
export { AckScope, type NackOptions } from "./ack-scope.js";
export { type CancelOptions, Consumer } from "./consumer.js";
export { deadLettered, deathReason } from "./dead-letter.js";
export { QueueError, type QueueErrorCode } from "./errors.js";
export { NamedQueue } from "./named-queue.js";
export { QueueManager, type QueueManagerOptions } from "./queue-manager.js";
export * from "./types.js";
