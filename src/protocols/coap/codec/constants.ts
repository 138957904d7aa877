/** CoAP message types, codes and option numbers (RFC 7252 §3, §5.10, §12; RFC 7641; RFC 7959). */

export const COAP_VERSION = 1;

/** Message type (RFC 7252 §3, T field). */
export const CON = 0;
export const NON = 1;
export const ACK = 2;
export const RST = 3;
export type MessageType = 0 | 1 | 2 | 3;

/** A code is class.detail packed as (class << 5) | detail (RFC 7252 §3). */
export const code = (cls: number, detail: number): number => (cls << 5) | detail;
export const codeClass = (c: number): number => c >> 5;
/** "2.05" form, for logs and diagnostics. */
export function codeString(c: number): string {
  const d = c & 0x1f;
  return `${c >> 5}.${d < 10 ? "0" : ""}${d}`;
}

export const Code = {
  EMPTY: 0,
  GET: 1,
  POST: 2,
  PUT: 3,
  DELETE: 4,
  FETCH: 5,
  Created: code(2, 1),
  Deleted: code(2, 2),
  Valid: code(2, 3),
  Changed: code(2, 4),
  Content: code(2, 5),
  Continue: code(2, 31),
  BadRequest: code(4, 0),
  Unauthorized: code(4, 1),
  BadOption: code(4, 2),
  Forbidden: code(4, 3),
  NotFound: code(4, 4),
  MethodNotAllowed: code(4, 5),
  NotAcceptable: code(4, 6),
  RequestEntityIncomplete: code(4, 8),
  PreconditionFailed: code(4, 12),
  RequestEntityTooLarge: code(4, 13),
  UnsupportedContentFormat: code(4, 15),
  TooManyRequests: code(4, 29),
  InternalServerError: code(5, 0),
  NotImplemented: code(5, 1),
  BadGateway: code(5, 2),
  ServiceUnavailable: code(5, 3),
  GatewayTimeout: code(5, 4),
  ProxyingNotSupported: code(5, 5),
} as const;

/** Option numbers (RFC 7252 §5.10, RFC 7641 §2, RFC 7959 §2.1, RFC 7967). */
export const Opt = {
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  Accept: 17,
  LocationQuery: 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
  NoResponse: 258,
} as const;

/** Option number properties (RFC 7252 §5.4.6): bit 0 critical, bit 1 unsafe. */
export const isCritical = (n: number): boolean => (n & 1) === 1;
export const isUnsafe = (n: number): boolean => (n & 2) === 2;
export const isNoCacheKey = (n: number): boolean => (n & 0x1e) === 0x1c;

export type OptionFormat = "empty" | "opaque" | "uint" | "string";

/** What the server knows of each option: format, length range, repeatable (RFC 7252 §5.10 table 4). */
export interface OptionDef {
  format: OptionFormat;
  min: number;
  max: number;
  repeatable: boolean;
}

const def = (format: OptionFormat, min: number, max: number, repeatable = false): OptionDef => ({
  format,
  min,
  max,
  repeatable,
});

export const OPTION_DEFS: ReadonlyMap<number, OptionDef> = new Map([
  [Opt.IfMatch, def("opaque", 0, 8, true)],
  [Opt.UriHost, def("string", 1, 255)],
  [Opt.ETag, def("opaque", 1, 8, true)],
  [Opt.IfNoneMatch, def("empty", 0, 0)],
  [Opt.Observe, def("uint", 0, 3)],
  [Opt.UriPort, def("uint", 0, 2)],
  [Opt.LocationPath, def("string", 0, 255, true)],
  [Opt.UriPath, def("string", 0, 255, true)],
  [Opt.ContentFormat, def("uint", 0, 2)],
  [Opt.MaxAge, def("uint", 0, 4)],
  [Opt.UriQuery, def("string", 0, 255, true)],
  [Opt.Accept, def("uint", 0, 2)],
  [Opt.LocationQuery, def("string", 0, 255, true)],
  [Opt.Block2, def("uint", 0, 3)],
  [Opt.Block1, def("uint", 0, 3)],
  [Opt.Size2, def("uint", 0, 4)],
  [Opt.ProxyUri, def("string", 1, 1034)],
  [Opt.ProxyScheme, def("string", 1, 255)],
  [Opt.Size1, def("uint", 0, 4)],
  [Opt.NoResponse, def("uint", 0, 1)],
]);

/** Transmission parameters (RFC 7252 §4.8), in ms. */
export const ACK_TIMEOUT_MS = 2000;
export const ACK_RANDOM_FACTOR = 1.5;
export const MAX_RETRANSMIT = 4;
/** EXCHANGE_LIFETIME (RFC 7252 §4.8.2): 247 s with the defaults. */
export const EXCHANGE_LIFETIME_MS = 247_000;
/** NON_LIFETIME (RFC 7252 §4.8.2): 145 s. */
export const NON_LIFETIME_MS = 145_000;
/** DEFAULT_LEISURE for multicast responses (RFC 7252 §8.2). */
export const DEFAULT_LEISURE_MS = 5000;
/** The largest Observe sequence number (24 bits, RFC 7641 §4.4). */
export const OBSERVE_MAX = 0xffffff;
