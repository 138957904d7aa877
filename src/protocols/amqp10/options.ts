import type { Config } from "../../config/schema.js";

/** Limits of the AMQP 1.0 adapter: the `amqp.*` keys it shares with 0-9-1, plus the `amqp10.*` ones. */
export interface Amqp10Options {
  /** max-frame-size offered in open (part 2 §2.7.1); frames larger are a framing error. */
  maxFrameSize: number;
  /** channel-max offered in open: highest session channel. */
  channelMax: number;
  /** handle-max offered in begin: highest link handle per session. */
  handleMax: number;
  /** idle-time-out offered in open, ms (0 = none): a peer silent twice as long is closed. */
  idleTimeoutMs: number;
  /** Largest message accepted (max-message-size on receiving links); larger: message-size-exceeded. */
  maxMessageSize: number;
  /** Header to open within this time, or the socket is closed. */
  handshakeTimeoutMs: number;
  /** Bytes buffered for a slow reader before its links stop sending (they resume on drain). */
  maxBufferedBytes: number;
  /** Link credit granted to each sending client, topped up when half is used. */
  linkCredit: number;
  /** The session incoming-window offered (transfer frames), topped up when half is used. */
  sessionWindow: number;
}

export const DEFAULT_AMQP10_OPTIONS: Amqp10Options = {
  maxFrameSize: 131_072,
  channelMax: 2047,
  handleMax: 1023,
  idleTimeoutMs: 60_000,
  maxMessageSize: 16 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  linkCredit: 256,
  sessionWindow: 8192,
};

/** The adapter's options from the broker config (the amqp.* section is shared with AMQP 0-9-1). */
export function amqp10OptionsFrom(config: Config): Amqp10Options {
  const a = config.amqp;
  return {
    ...DEFAULT_AMQP10_OPTIONS,
    maxFrameSize: a.frameMax,
    channelMax: a.channelMax,
    idleTimeoutMs: a.heartbeat * 1000,
    maxMessageSize: a.maxMessageSize,
    handshakeTimeoutMs: a.handshakeTimeoutMs,
    maxBufferedBytes: a.maxBufferedBytes,
  };
}
