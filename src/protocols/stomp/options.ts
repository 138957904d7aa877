/** STOMP adapter settings (config section `stomp`, see src/config/schema.ts). */
export interface StompOptions {
  /** Largest frame accepted (headers and body), in bytes; larger ones get an ERROR. */
  maxFrameSize: number;
  maxHeaders: number;
  /** Longest header line, in bytes. */
  maxHeaderLength: number;
  /** Shortest interval at which we send heart-beats (our `cx` in CONNECTED); 0 = we send none. */
  heartbeatSendMs: number;
  /** Interval at which we want the client's heart-beats (our `cy`); 0 = we do not ask for any. */
  heartbeatReceiveMs: number;
  /** A connection that sends no CONNECT within this time is closed. */
  connectTimeoutMs: number;
  /** Bytes buffered for a slow reader before `/topic/` messages with ack:auto to it are dropped. */
  maxBufferedBytes: number;
  /** SUBSCRIBEs per connection. */
  maxSubscriptions: number;
  /** SEND/ACK/NACK frames held by one open transaction (and open transactions per connection). */
  maxTransactionFrames: number;
  /** The `host` header a client must name; "" accepts any (Switchboard has one virtual host). */
  virtualHost: string;
  /**
   * Ready messages a `/queue/` may hold before the connections publishing into it stop being read
   * (flow control, as RabbitMQ's credit flow): a publisher that ignores it is slowed by TCP, it does
   * not grow the broker's memory. 0 = no limit.
   */
  queueFlowLimit: number;
  /** Server name in CONNECTED (`server` header). */
  serverName: string;
}

export const DEFAULT_STOMP_OPTIONS: StompOptions = {
  maxFrameSize: 4 * 1024 * 1024,
  maxHeaders: 128,
  maxHeaderLength: 16 * 1024,
  heartbeatSendMs: 10_000,
  heartbeatReceiveMs: 10_000,
  connectTimeoutMs: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxSubscriptions: 1024,
  maxTransactionFrames: 10_000,
  virtualHost: "",
  queueFlowLimit: 100_000,
  serverName: "Switchboard",
};
