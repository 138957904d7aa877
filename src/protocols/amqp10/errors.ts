/** AMQP 1.0 error conditions (part 2 §2.8.15-2.8.18) and the error a handler throws to raise one. */

import { P } from "./codec/frames.js";
import { type AmqpValue, described, list, map, NULL, str, sym } from "./codec/types.js";

export const Cond = {
  internalError: "amqp:internal-error",
  notFound: "amqp:not-found",
  unauthorizedAccess: "amqp:unauthorized-access",
  decodeError: "amqp:decode-error",
  resourceLimitExceeded: "amqp:resource-limit-exceeded",
  notAllowed: "amqp:not-allowed",
  invalidField: "amqp:invalid-field",
  notImplemented: "amqp:not-implemented",
  resourceLocked: "amqp:resource-locked",
  preconditionFailed: "amqp:precondition-failed",
  resourceDeleted: "amqp:resource-deleted",
  illegalState: "amqp:illegal-state",
  frameSizeTooSmall: "amqp:frame-size-too-small",
  connectionForced: "amqp:connection:forced",
  framingError: "amqp:connection:framing-error",
  redirect: "amqp:connection:redirect",
  windowViolation: "amqp:session:window-violation",
  errantLink: "amqp:session:errant-link",
  handleInUse: "amqp:session:handle-in-use",
  unattachedHandle: "amqp:session:unattached-handle",
  detachForced: "amqp:link:detach-forced",
  transferLimitExceeded: "amqp:link:transfer-limit-exceeded",
  messageSizeExceeded: "amqp:link:message-size-exceeded",
  linkRedirect: "amqp:link:redirect",
  stolen: "amqp:link:stolen",
} as const;

export type Condition = (typeof Cond)[keyof typeof Cond];

/** Where an error ends things: the whole connection, the session, or one link. */
export type ErrorScope = "connection" | "session" | "link";

export class Amqp10Error extends Error {
  constructor(
    readonly condition: Condition,
    message: string,
    readonly scope: ErrorScope = "connection",
  ) {
    super(message);
    this.name = "Amqp10Error";
  }
}

/** The `error` composite (part 2 §2.8.14). */
export function errorValue(condition: string, description: string): AmqpValue {
  return described(P.error, list([sym(condition), description ? str(description) : NULL, map([])]));
}
