/** AMQP 0-9-1 wire constants (amqp0-9-1.xml, §4.2 and the constants section). */

/** "AMQP" 0 0 9 1: the protocol header a 0-9-1 client sends first (§4.2.2). */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** type(1) channel(2) size(4) before the payload, frame-end(1) after it. */
export const FRAME_OVERHEAD = 8;
/** Every peer must accept frames of this size before tune (§4.2.3, frame-min-size). */
export const FRAME_MIN_SIZE = 4096;

export const CLASS_CONNECTION = 10;
export const CLASS_CHANNEL = 20;
export const CLASS_EXCHANGE = 40;
export const CLASS_QUEUE = 50;
export const CLASS_BASIC = 60;
export const CLASS_CONFIRM = 85;
export const CLASS_TX = 90;

/** Reply codes (the spec's constants, with RabbitMQ's usage). */
export const ReplyCode = {
  Success: 200,
  ContentTooLarge: 311,
  NoRoute: 312,
  NoConsumers: 313,
  ConnectionForced: 320,
  InvalidPath: 402,
  AccessRefused: 403,
  NotFound: 404,
  ResourceLocked: 405,
  PreconditionFailed: 406,
  FrameError: 501,
  SyntaxError: 502,
  CommandInvalid: 503,
  ChannelError: 504,
  UnexpectedFrame: 505,
  ResourceError: 506,
  NotAllowed: 530,
  NotImplemented: 540,
  InternalError: 541,
} as const;

export const REPLY_TEXT: Record<number, string> = {
  200: "OK",
  311: "CONTENT_TOO_LARGE",
  312: "NO_ROUTE",
  313: "NO_CONSUMERS",
  320: "CONNECTION_FORCED",
  402: "INVALID_PATH",
  403: "ACCESS_REFUSED",
  404: "NOT_FOUND",
  405: "RESOURCE_LOCKED",
  406: "PRECONDITION_FAILED",
  501: "FRAME_ERROR",
  502: "SYNTAX_ERROR",
  503: "COMMAND_INVALID",
  504: "CHANNEL_ERROR",
  505: "UNEXPECTED_FRAME",
  506: "RESOURCE_ERROR",
  530: "NOT_ALLOWED",
  540: "NOT_IMPLEMENTED",
  541: "INTERNAL_ERROR",
};

/** Soft errors close the channel; hard errors close the connection (§1.2 of the constants). */
export function isHardError(code: number): boolean {
  return code === 320 || code === 402 || code >= 500;
}
