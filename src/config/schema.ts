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

export interface XmppConfig {
  /** Client-to-server TCP port (STARTTLS, required when tls.cert and tls.key are set). */
  port: Port;
  /** Direct TLS port (XEP-0368); active only when tls.cert and tls.key are configured. */
  tlsPort: Port;
  /** The served domain: users are user@domain, PubSub is pubsub.<domain>. */
  domain: string;
  /** Largest stanza accepted, in characters. */
  maxStanzaSize: number;
  /** Deepest element nesting inside a stanza. */
  maxDepth: number;
  /** A connection that has not bound a resource by then is closed. */
  authTimeoutMs: number;
  /** XEP-0198: seconds a cut session waits to be resumed (0 = no resumption). */
  resumeTimeoutSec: number;
  /** XEP-0160: messages stored per offline user (0 = no offline storage). */
  maxOfflineMessages: number;
  /** Bytes buffered for a slow reader before PubSub notifications to it are dropped. */
  maxBufferedBytes: number;
  /** A silent client is pinged (XEP-0199) after this many seconds and cut after twice it (0 = never). */
  pingIntervalSec: number;
}

export interface HttpConfig {
  /** One HTTP server: WebSocket endpoints by path (MQTT at /mqtt) and the admin API. */
  port: Port;
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
  xmpp: XmppConfig;
  http: HttpConfig;
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
  xmpp: section({
    port: port(),
    tlsPort: port(),
    domain: { kind: "string" },
    maxStanzaSize: int(10_000, 64 * 1024 * 1024),
    maxDepth: int(4, 1000),
    authTimeoutMs: int(100, 3_600_000),
    resumeTimeoutSec: int(0, 86_400),
    maxOfflineMessages: int(0, 1_000_000),
    maxBufferedBytes: int(65_536, 4_294_967_295),
    pingIntervalSec: int(0, 86_400),
  } satisfies Record<keyof XmppConfig, FieldSpec>),
  http: section({ port: port() } satisfies Record<keyof HttpConfig, FieldSpec>),
  sys: section({ intervalMs: int(100, 3_600_000) } satisfies Record<keyof SysConfig, FieldSpec>),
} satisfies Record<keyof Config, FieldSpec>;

/** True when MQTT over TLS should listen: a certificate and key are configured and the port is not off. */
export function mqttTlsEnabled(config: Config): boolean {
  return config.mqtt.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}
