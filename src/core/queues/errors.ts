/**
 * Stable error codes of the named queues (STYLE.md convention 6). Each maps to one AMQP 0-9-1 reply
 * code, which is where the names come from; STOMP turns any of them into an ERROR frame.
 */

export type QueueErrorCode =
  /** AMQP 404: no queue of that name (passive declare, delete, consume). */
  | "NOT_FOUND"
  /** AMQP 406: declared with other settings, or delete if-unused / if-empty refused, bad argument. */
  | "PRECONDITION_FAILED"
  /** AMQP 405: an exclusive queue used by someone other than its owner. */
  | "RESOURCE_LOCKED"
  /** AMQP 403: an exclusive consumer is in the way (or would be). */
  | "ACCESS_REFUSED";

export class QueueError extends Error {
  override name = "QueueError";

  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
  }
}
