/** The STOMP codec: pure bytes <-> frames. */
export { type DecoderLimits, StompDecoder } from "./decoder.js";
export { encodeFrame, encodeHead } from "./encoder.js";
export { StompCodecError, type StompCodecErrorCode } from "./errors.js";
export { escapeHeader, unescapeHeader } from "./escape.js";
export * from "./frame.js";
