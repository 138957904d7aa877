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
  /** WAMP-CRA secrets file (`authid:role:$wampcra$...` lines, see docs/wamp.md); absent = no WAMP-CRA. */
  wampcraFile?: string;
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

/** STOMP listeners and limits (src/protocols/stomp/options.ts explains each). */
export interface StompConfig {
  port: Port;
  /** STOMP over TLS; active only when tls.cert and tls.key are configured. */
  tlsPort: Port;
  maxFrameSize: number;
  maxHeaders: number;
  maxHeaderLength: number;
  heartbeatSendMs: number;
  heartbeatReceiveMs: number;
  connectTimeoutMs: number;
  maxBufferedBytes: number;
  maxSubscriptions: number;
  maxTransactionFrames: number;
  /** The `host` header clients must send; "" = any. */
  virtualHost: string;
  /** Ready messages in a queue past which its publishers are no longer read (0 = no limit). */
  queueFlowLimit: number;
}

export interface HttpConfig {
  /** One HTTP server: WebSocket endpoints by path (MQTT at /mqtt) and the admin API. */
  port: Port;
  /** The same endpoints over HTTPS / wss; active only when tls.cert and tls.key are configured. */
  tlsPort: Port;
}

export interface WampConfig {
  /** WAMP RawSocket over TCP (WebSocket WAMP is at /ws on the HTTP port). */
  port: Port;
  /** Realms clients may join. */
  realms: string[];
  /** Create a realm when a client asks for one that is not configured. */
  autoCreateRealms: boolean;
  /** Realms anonymous clients may join ("*" = all); the global anonymous policy applies first. */
  anonymousRealms: string[];
  /** Largest WAMP message (bytes, serialized) accepted and sent, on every transport. */
  maxMessageSize: number;
  /** URI rules for URIs clients send: "loose" or "strict" (WAMP §2.1.1). */
  uriCheck: "strict" | "loose";
  /** Events kept per subscription for wamp.subscription.get_events (0 = none). */
  eventHistory: number;
  /** A connection that has not joined a realm within this time is closed. */
  helloTimeoutMs: number;
  /** Bytes buffered for a slow reader before events to it are dropped. */
  maxBufferedBytes: number;
}

export interface SysConfig {
  /** How often $SYS/ topics are refreshed. */
  intervalMs: number;
}

/** Routed RPC (docs/rpc.md). */
export interface RpcConfig {
  /** Timeout of calls from MQTT, STOMP and HTTP, which cannot ask for one (ms; 0 = none). */
  timeoutMs: number;
  /** Largest body of `POST /api/rpc/<procedure>` (bytes). */
  maxHttpBody: number;
  /** Calls one MQTT or STOMP connection may have waiting for their answer. */
  maxPendingCalls: number;
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
  stomp: StompConfig;
  http: HttpConfig;
  wamp: WampConfig;
  sys: SysConfig;
  rpc: RpcConfig;
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
  /** A list of non-empty strings (a flag gives them comma-separated). */
  | { kind: "names" }
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

const STOMP_SPEC = {
  port: port(),
  tlsPort: port(),
  maxFrameSize: int(1024, 268_435_455),
  maxHeaders: int(8, 65_535),
  maxHeaderLength: int(256, 1_048_576),
  heartbeatSendMs: int(0, 3_600_000),
  heartbeatReceiveMs: int(0, 3_600_000),
  connectTimeoutMs: int(100, 3_600_000),
  maxBufferedBytes: int(65_536, 4_294_967_295),
  maxSubscriptions: int(1, 1_000_000),
  maxTransactionFrames: int(1, 10_000_000),
  virtualHost: { kind: "string" },
  queueFlowLimit: int(0, 100_000_000),
} satisfies Record<keyof StompConfig, FieldSpec>;

const WAMP_SPEC = {
  port: port(),
  realms: { kind: "names" },
  autoCreateRealms: bool(),
  anonymousRealms: { kind: "names" },
  maxMessageSize: int(512, 16 * 1024 * 1024),
  uriCheck: oneOf("strict", "loose"),
  eventHistory: int(0, 100_000),
  helloTimeoutMs: int(100, 3_600_000),
  maxBufferedBytes: int(65_536, 4_294_967_295),
} satisfies Record<keyof WampConfig, FieldSpec>;

export const CONFIG_SPEC = {
  host: { kind: "string" },
  dataDir: path(),
  store: oneOf("sqlite", "memory"),
  durability: oneOf("full", "normal", "relaxed"),
  logLevel: oneOf("error", "warn", "info", "debug"),
  allowAnonymous: { kind: "bool", optional: true },
  auth: section({ usersFile: path(true), aclFile: path(true), wampcraFile: path(true) } satisfies Record<
    keyof AuthConfig,
    FieldSpec
  >),
  tls: section({ cert: path(true), key: path(true), ca: path(true) } satisfies Record<
    keyof TlsConfig,
    FieldSpec
  >),
  mqtt: section(MQTT_SPEC),
  stomp: section(STOMP_SPEC),
  http: section({ port: port(), tlsPort: port() } satisfies Record<keyof HttpConfig, FieldSpec>),
  wamp: section(WAMP_SPEC),
  sys: section({ intervalMs: int(100, 3_600_000) } satisfies Record<keyof SysConfig, FieldSpec>),
  rpc: section({
    timeoutMs: int(0, 86_400_000),
    maxHttpBody: int(64, 268_435_455),
    maxPendingCalls: int(1, 10_000_000),
  } satisfies Record<keyof RpcConfig, FieldSpec>),
} satisfies Record<keyof Config, FieldSpec>;

/** True when MQTT over TLS should listen: a certificate and key are configured and the port is not off. */
export function mqttTlsEnabled(config: Config): boolean {
  return config.mqtt.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}

/** True when HTTPS / wss should listen: a certificate and key are configured and the port is not off. */
export function httpTlsEnabled(config: Config): boolean {
  return config.http.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}

/** True when STOMP over TLS should listen: a certificate and key are configured and the port is not off. */
export function stompTlsEnabled(config: Config): boolean {
  return config.stomp.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}
