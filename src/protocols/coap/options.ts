/** CoAP adapter options: config.coap (config/schema.ts) plus timing knobs tests may shorten. */
import type { CoapConfig } from "../../config/schema.js";
import {
  ACK_RANDOM_FACTOR,
  ACK_TIMEOUT_MS,
  EXCHANGE_LIFETIME_MS,
  MAX_RETRANSMIT,
} from "./codec/constants.js";

export interface CoapOptions {
  /** RFC 7252 §4.8 transmission parameters. */
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  /** Outstanding confirmable messages per peer (RFC 7252 §4.7 NSTART). */
  nstart: number;
  /** How long message ids are remembered for de-duplication (EXCHANGE_LIFETIME). */
  exchangeLifetimeMs: number;
  /** An answer not ready after this long gets an empty ACK first; it follows as a separate response. */
  separateResponseAfterMs: number;
  /** Preferred block size in bytes (16..1024, a power of two; RFC 7959). */
  blockSize: number;
  /** Largest request or resource body, reassembled or served block-wise. */
  maxPayloadSize: number;
  /** Bytes of all Block1 uploads in progress together (past it: 5.03 with Max-Age). */
  maxReassemblyBytes: number;
  /** Every Nth notification to a NON observer is confirmable (RFC 7641 §4.5). */
  observeConEvery: number;
  /** ... and at least one every this many ms (RFC 7641 §4.5: 24 hours). */
  observeConIntervalMs: number;
  maxObserversPerPeer: number;
  /** Notifications waiting for the peer's NSTART window; past it the oldest is dropped. */
  maxQueuedNotifications: number;
  maxPeers: number;
  /** Requests per second and burst per source address (token bucket); 0 = unlimited. */
  rateLimit: number;
  rateBurst: number;
  /** Responses to a source not yet shown reachable are at most this many times the request (RFC 7252 §11.3); 0 = off. */
  amplificationFactor: number;
  /** How long a large answer to an unverified source waits for its ping's RST before it is cut. */
  verifyWaitMs: number;
  /** Join the All-CoAP-Nodes groups (RFC 7252 §12.8). */
  multicast: boolean;
  /** DEFAULT_LEISURE for multicast answers (RFC 7252 §8.2). */
  leisureMs: number;
}

export const DEFAULT_COAP_OPTIONS: CoapOptions = {
  ackTimeoutMs: ACK_TIMEOUT_MS,
  ackRandomFactor: ACK_RANDOM_FACTOR,
  maxRetransmit: MAX_RETRANSMIT,
  nstart: 1,
  exchangeLifetimeMs: EXCHANGE_LIFETIME_MS,
  separateResponseAfterMs: 500,
  blockSize: 1024,
  maxPayloadSize: 1_048_576,
  maxReassemblyBytes: 64 * 1_048_576,
  observeConEvery: 100,
  observeConIntervalMs: 24 * 3600 * 1000,
  maxObserversPerPeer: 256,
  maxQueuedNotifications: 1024,
  maxPeers: 100_000,
  rateLimit: 1000,
  rateBurst: 2000,
  amplificationFactor: 3,
  // Below separateResponseAfterMs: the answer stays piggybacked either way.
  verifyWaitMs: 400,
  multicast: false,
  leisureMs: 5000,
};

export function coapOptionsFrom(c: CoapConfig): CoapOptions {
  return {
    ...DEFAULT_COAP_OPTIONS,
    ackTimeoutMs: c.ackTimeoutMs,
    maxRetransmit: c.maxRetransmit,
    nstart: c.nstart,
    blockSize: c.blockSize,
    maxPayloadSize: c.maxPayloadSize,
    observeConEvery: c.observeConEvery,
    maxObserversPerPeer: c.maxObserversPerPeer,
    maxPeers: c.maxPeers,
    rateLimit: c.rateLimit,
    rateBurst: c.rateBurst,
    amplificationFactor: c.amplificationFactor,
    multicast: c.multicast,
  };
}
