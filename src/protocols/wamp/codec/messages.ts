/**
 * WAMP v2 messages (WAMP §6.5 "Message Definitions", the basic and advanced profiles): type codes,
 * their tuple shapes, and one structural check per type. A serializer turns bytes into an array;
 * `checkMessage` decides whether that array is a well-formed message the router accepts.
 */

export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type Dict = Record<string, unknown>;
export type Args = unknown[] | undefined;
export type KwArgs = Dict | undefined;

export type Hello = [1, string, Dict];
export type Authenticate = [5, string, Dict];
export type Goodbye = [6, Dict, string];
export type Abort = [3, Dict, string];
export type ErrorMsg = [8, number, number, Dict, string, Args?, KwArgs?];
export type Publish = [16, number, Dict, string, Args?, KwArgs?];
export type Subscribe = [32, number, Dict, string];
export type Unsubscribe = [34, number, number];
export type Call = [48, number, Dict, string, Args?, KwArgs?];
export type Cancel = [49, number, Dict];
export type Register = [64, number, Dict, string];
export type Unregister = [66, number, number];
export type Yield = [70, number, Dict, Args?, KwArgs?];

/** Every message a client may send to the router. */
export type InboundMessage =
  | Hello
  | Authenticate
  | Goodbye
  | Abort
  | ErrorMsg
  | Publish
  | Subscribe
  | Unsubscribe
  | Call
  | Cancel
  | Register
  | Unregister
  | Yield;

/** Largest WAMP id: ids are integers in [0, 2^53] (WAMP §2.1.2 "IDs"). */
export const MAX_ID = 2 ** 53;

export function isId(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_ID;
}

export function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isList(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/** Positions from which the optional Arguments|list and ArgumentsKw|dict follow, by type. */
const PAYLOAD_AT: Record<number, number> = { 8: 5, 16: 4, 48: 4, 70: 3 };

/**
 * Why `m` is not a well-formed inbound message, or undefined when it is. Checks the element count
 * and the type of every element; URIs are checked separately (their rules depend on the realm's
 * strict/loose setting and on the match policy).
 */
export function checkMessage(m: unknown): string | undefined {
  if (!Array.isArray(m) || m.length === 0) return "a message must be a non-empty list";
  const type = m[0];
  if (typeof type !== "number") return "the message type must be an integer";
  const shape = SHAPES[type];
  if (shape === undefined) return `unknown or unexpected message type ${type}`;
  const payloadAt = PAYLOAD_AT[type];
  const max = payloadAt === undefined ? shape.length : payloadAt + 2;
  if (m.length < shape.length || m.length > max) return `message type ${type}: wrong number of elements`;
  for (let i = 1; i < shape.length; i++) {
    if (!shape[i]!(m[i])) return `message type ${type}: element ${i} has the wrong type`;
  }
  if (payloadAt !== undefined) {
    if (m.length > payloadAt && !isList(m[payloadAt]))
      return `message type ${type}: Arguments must be a list`;
    if (m.length > payloadAt + 1 && !isDict(m[payloadAt + 1]))
      return `message type ${type}: ArgumentsKw must be a dict`;
  }
  return undefined;
}

const isString = (v: unknown): boolean => typeof v === "string";
const any = (): boolean => true;

/** Element checks by position (index 0, the type, is `any`: it was read already). */
const SHAPES: Record<number, Array<(v: unknown) => boolean>> = {
  [MessageType.HELLO]: [any, isString, isDict],
  [MessageType.ABORT]: [any, isDict, isString],
  [MessageType.AUTHENTICATE]: [any, isString, isDict],
  [MessageType.GOODBYE]: [any, isDict, isString],
  [MessageType.ERROR]: [any, isId, isId, isDict, isString],
  [MessageType.PUBLISH]: [any, isId, isDict, isString],
  [MessageType.SUBSCRIBE]: [any, isId, isDict, isString],
  [MessageType.UNSUBSCRIBE]: [any, isId, isId],
  [MessageType.CALL]: [any, isId, isDict, isString],
  [MessageType.CANCEL]: [any, isId, isDict],
  [MessageType.REGISTER]: [any, isId, isDict, isString],
  [MessageType.UNREGISTER]: [any, isId, isId],
  [MessageType.YIELD]: [any, isId, isDict],
};

/** The error URIs of the WAMP specification the router sends (WAMP §6.6 "Predefined URIs"). */
export const WampError = {
  invalidUri: "wamp.error.invalid_uri",
  noSuchProcedure: "wamp.error.no_such_procedure",
  procedureAlreadyExists: "wamp.error.procedure_already_exists",
  procedureExistsWithDifferentPolicy: "wamp.error.procedure_exists_with_different_invocation_policy",
  noSuchRegistration: "wamp.error.no_such_registration",
  noSuchSubscription: "wamp.error.no_such_subscription",
  noSuchSession: "wamp.error.no_such_session",
  invalidArgument: "wamp.error.invalid_argument",
  systemShutdown: "wamp.close.system_shutdown",
  closeRealm: "wamp.close.close_realm",
  goodbyeAndOut: "wamp.close.goodbye_and_out",
  killed: "wamp.close.killed",
  protocolViolation: "wamp.error.protocol_violation",
  notAuthorized: "wamp.error.not_authorized",
  authorizationFailed: "wamp.error.authorization_failed",
  authenticationFailed: "wamp.error.authentication_failed",
  noAuthMethod: "wamp.error.no_auth_method",
  noSuchRealm: "wamp.error.no_such_realm",
  noSuchRole: "wamp.error.no_such_role",
  canceled: "wamp.error.canceled",
  timeout: "wamp.error.timeout",
  optionNotAllowed: "wamp.error.option_not_allowed",
  noEligibleCallee: "wamp.error.no_eligible_callee",
  optionDisallowedDiscloseMe: "wamp.error.option_disallowed.disclose_me",
  networkFailure: "wamp.error.network_failure",
  unavailable: "wamp.error.unavailable",
  payloadSizeExceeded: "wamp.error.payload_size_exceeded",
} as const;
