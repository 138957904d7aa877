/**
 * The configuration: its type and the field specification the validator walks (load.ts).
 *
 * To add a protocol section (amqp, stomp, coap, xmpp, wamp): add its interface and key to `Config`,
 * its defaults to DEFAULT_CONFIG (defaults.ts) and its spec to CONFIG_SPEC below. A section with a
 * `port` field gets a `--<section>-port` flag automatically (cli/args.ts).
 */

import type { LogLevel } from "../core/logger.js";

/** A listener port: a number (0 = any free port) or "off" to disable the listener. */
export type Port = number | "off";

export type StoreKind = "sqlite" | "memory";

/**
 * SQLite store (docs/storage.md), in SQLite's own vocabulary: "normal" (default) commits before
 * acknowledging, without an fsync per commit (survives SIGKILL of the process); "full" also fsyncs
 * every commit (survives an OS crash and power loss too); "relaxed" commits every second.
 */
export type Durability = "full" | "normal" | "relaxed";

export interface AuthConfig {
  /** Users file (`user:hash` lines, see docs/security.md); absent = no password authentication. */
  usersFile?: string;
  /** ACL file; absent = every authenticated client may do everything. */
  aclFile?: string;
}

export interface TlsConfig {
  /** PEM file paths. */
  cert?: string;
  key?: string;
  ca?: string;
}

export interface MqttConfig {
  port: Port;
  /** Active only when tls.cert and tls.key are configured. */
  tlsPort: Port;
  /** Largest packet accepted and sent (bytes, whole packet). */
  maxPacketSize: number;
  /** Receive Maximum: QoS 1/2 messages in flight per client, each direction. */
  maxInflight: number;
  /** Messages kept per persistent session (queued + in flight); past it the oldest are dropped. */
  maxQueuedMessages: number;
  /** Payload bytes queued per persistent session (0 = no byte bound); past it the oldest are dropped. */
  maxQueuedBytes: number;
  maxTopicLevels: number;
  /** Topic Alias Maximum announced to clients (0 = no aliases). */
  maxTopicAlias: number;
  /** A connection that sends no CONNECT within this time is closed. */
  connectTimeoutMs: number;
  /** Server Keep Alive cap in seconds (0 = no cap: the client's value is used). */
  keepAliveMax: number;
  /** Largest session expiry interval granted (seconds). */
  maxSessionExpiry: number;
  retainAvailable: boolean;
  maxQoS: 0 | 1 | 2;
  maxClientIdLength: number;
  /** Bytes buffered for a slow reader before QoS 0 messages to it are dropped. */
  maxBufferedBytes: number;
}

export interface HttpConfig {
  /** One HTTP server: WebSocket endpoints by path (MQTT at /mqtt) and the admin API. */
  port: Port;
}

export interface CoapConfig {
  /** UDP port (RFC 7252 default 5683); IPv4 on `host`, IPv6 too (see `ipv6`). */
  port: Port;
  /** Also listen on IPv6: ::1 when host is 127.0.0.1/localhost, :: when host is 0.0.0.0. */
  ipv6: boolean;
  /** Join the All-CoAP-Nodes multicast groups (224.0.1.187, ff02::fd, ff05::fd) for discovery. */
  multicast: boolean;
  /** RFC 7252 §4.8 ACK_TIMEOUT (ms) and MAX_RETRANSMIT for confirmable messages the broker sends. */
  ackTimeoutMs: number;
  maxRetransmit: number;
  /** Outstanding confirmable messages per client (RFC 7252 §4.7 NSTART). */
  nstart: number;
  /** Preferred block size for block-wise transfers, 16..1024 (rounded down to a power of two). */
  blockSize: number;
  /** Largest request or response body (block-wise), bytes. */
  maxPayloadSize: number;
  /** Every Nth notification to a non-confirmable observer is sent confirmable (RFC 7641 §4.5). */
  observeConEvery: number;
  maxObserversPerPeer: number;
  /** Client endpoints (address and port) with state kept at once. */
  maxPeers: number;
  /** Requests per second per source address (0 = unlimited) and the burst allowed above it. */
  rateLimit: number;
  rateBurst: number;
  /** Responses to an unverified source are at most this many times the request (0 = no limit). */
  amplificationFactor: number;
}

export interface SysConfig {
  /** How often $SYS/ topics are refreshed. */
  intervalMs: number;
}

export interface Config {
  /** Listen address for every listener. Default loopback: secure by default. */
  host: string;
  dataDir: string;
  store: StoreKind;
  /** How the SQLite store commits (docs/storage.md); ignored by the memory store. */
  durability: Durability;
  logLevel: LogLevel;
  /** undefined = decided by checkAnonymousPolicy (loopback only, when there is no users file). */
  allowAnonymous?: boolean;
  auth: AuthConfig;
  tls: TlsConfig;
  mqtt: MqttConfig;
  http: HttpConfig;
  coap: CoapConfig;
  sys: SysConfig;
}

// ---- field specification ---------------------------------------------------------------------------

export type FieldSpec = (
  | { kind: "port" }
  | { kind: "int"; min: number; max: number }
  | { kind: "bool" }
  | { kind: "string" }
  /** A file or directory path; relative paths in a config file are resolved against its directory. */
  | { kind: "path" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "section"; fields: SectionSpec }
) & { optional?: boolean };

export type SectionSpec = Record<string, FieldSpec>;

const port = (): FieldSpec => ({ kind: "port" });
const int = (min: number, max: number): FieldSpec => ({ kind: "int", min, max });
const bool = (): FieldSpec => ({ kind: "bool" });
const path = (optional = false): FieldSpec => ({ kind: "path", optional });
const oneOf = (...values: string[]): FieldSpec => ({ kind: "enum", values });
const section = (fields: SectionSpec): FieldSpec => ({ kind: "section", fields });

const MQTT_SPEC = {
  port: port(),
  tlsPort: port(),
  maxPacketSize: int(128, 268_435_455),
  maxInflight: int(1, 65_535),
  maxQueuedMessages: int(0, 100_000_000),
  maxQueuedBytes: int(0, Number.MAX_SAFE_INTEGER),
  maxTopicLevels: int(1, 65_535),
  maxTopicAlias: int(0, 65_535),
  connectTimeoutMs: int(100, 3_600_000),
  keepAliveMax: int(0, 65_535),
  maxSessionExpiry: int(0, 0xffff_ffff),
  retainAvailable: bool(),
  maxQoS: int(0, 2),
  maxClientIdLength: int(23, 65_535),
  maxBufferedBytes: int(65_536, 4_294_967_295),
} satisfies Record<keyof MqttConfig, FieldSpec>;

const COAP_SPEC = {
  port: port(),
  ipv6: bool(),
  multicast: bool(),
  ackTimeoutMs: int(10, 60_000),
  maxRetransmit: int(0, 20),
  nstart: int(1, 1024),
  blockSize: int(16, 1024),
  maxPayloadSize: int(16, 64 * 1024 * 1024),
  observeConEvery: int(1, 1_000_000),
  maxObserversPerPeer: int(1, 1_000_000),
  maxPeers: int(1, 10_000_000),
  rateLimit: int(0, 10_000_000),
  rateBurst: int(1, 10_000_000),
  amplificationFactor: int(0, 1000),
} satisfies Record<keyof CoapConfig, FieldSpec>;

export const CONFIG_SPEC = {
  host: { kind: "string" },
  dataDir: path(),
  store: oneOf("sqlite", "memory"),
  durability: oneOf("full", "normal", "relaxed"),
  logLevel: oneOf("error", "warn", "info", "debug"),
  allowAnonymous: { kind: "bool", optional: true },
  auth: section({ usersFile: path(true), aclFile: path(true) } satisfies Record<keyof AuthConfig, FieldSpec>),
  tls: section({ cert: path(true), key: path(true), ca: path(true) } satisfies Record<
    keyof TlsConfig,
    FieldSpec
  >),
  mqtt: section(MQTT_SPEC),
  http: section({ port: port() } satisfies Record<keyof HttpConfig, FieldSpec>),
  coap: section(COAP_SPEC),
  sys: section({ intervalMs: int(100, 3_600_000) } satisfies Record<keyof SysConfig, FieldSpec>),
} satisfies Record<keyof Config, FieldSpec>;

/** True when MQTT over TLS should listen: a certificate and key are configured and the port is not off. */
export function mqttTlsEnabled(config: Config): boolean {
  return config.mqtt.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}
