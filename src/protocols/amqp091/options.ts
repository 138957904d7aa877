import { join } from "node:path";
import type { Config } from "../../config/schema.js";

/**
 * Limits and switches of the AMQP 0-9-1 adapter: the `amqp.*` config keys (src/config/schema.ts and
 * the README) less the listener ports.
 */
export interface Amqp091Options {
  /** Highest channel number offered in connection.tune (channel-max). */
  channelMax: number;
  /** Largest frame offered in connection.tune (frame-max, whole frame). */
  frameMax: number;
  /** Heartbeat interval offered in connection.tune, seconds (0 = none unless the client asks). */
  heartbeat: number;
  /** Largest message body accepted (RabbitMQ's max_message_size); larger: 406 on the channel. */
  maxMessageSize: number;
  /** Protocol header to connection.open done within this time, or the socket is closed. */
  handshakeTimeoutMs: number;
  /** Bytes buffered for a slow reader before its consumers are paused (they resume on drain). */
  maxBufferedBytes: number;
  /**
   * Virtual hosts a client may open: each has its own exchanges and queues; "/" also holds the shared
   * topic space (its amq.topic).
   */
  vhosts: string[];
  /**
   * Heap bytes above which publishing connections are blocked (connection.blocked, then no reads)
   * until it falls below again; 0 = 80 % of V8's heap limit. RabbitMQ's memory high watermark.
   */
  memoryHighWatermark: number;
  /** Where durable exchanges, bindings and AMQP queue arguments are kept; undefined = not kept. */
  topologyFile?: string;
}

export const DEFAULT_AMQP091_OPTIONS: Amqp091Options = {
  channelMax: 2047,
  frameMax: 131_072,
  heartbeat: 60,
  maxMessageSize: 16 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  vhosts: ["/"],
  memoryHighWatermark: 0,
};

/** The adapter's options from the broker config; the topology file lives beside the SQLite store. */
export function amqp091OptionsFrom(config: Config): Amqp091Options {
  const a = config.amqp;
  return {
    channelMax: a.channelMax,
    frameMax: a.frameMax,
    heartbeat: a.heartbeat,
    maxMessageSize: a.maxMessageSize,
    handshakeTimeoutMs: a.handshakeTimeoutMs,
    maxBufferedBytes: a.maxBufferedBytes,
    vhosts: a.vhosts
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== ""),
    memoryHighWatermark: a.memoryHighWatermark,
    topologyFile: config.store === "sqlite" ? join(config.dataDir, "amqp091-topology.json") : undefined,
  };
}
