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

export interface AmqpConfig {
  /** AMQP listener (0-9-1 today; the protocol header picks the protocol, so AMQP 1.0 can share it). */
  port: Port;
  /** AMQPS listener, active only when tls.cert and tls.key are configured. */
  tlsPort: Port;
  /** Highest channel number offered in connection.tune. */
  channelMax: number;
  /** Largest frame offered in connection.tune (bytes, whole frame). */
  frameMax: number;
  /** Heartbeat offered in connection.tune, seconds (0 = none unless the client asks). */
  heartbeat: number;
  /** Largest message body accepted (bytes); larger is refused with 406 on the channel. */
  maxMessageSize: number;
  /** Protocol header to connection.open within this time, or the connection is dropped. */
  handshakeTimeoutMs: number;
  /** Bytes buffered for a slow reader before its consumers are paused. */
  maxBufferedBytes: number;
  /** Virtual hosts clients may open, comma-separated; "/" holds the shared topic space (amq.topic). */
  vhosts: string;
  /** Heap bytes above which publishers are blocked (connection.blocked); 0 = 80 % of the V8 heap limit. */
  memoryHighWatermark: number;
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
  amqp: AmqpConfig;
  xmpp: XmppConfig;
  http: HttpConfig;
  wamp: WampConfig;
  coap: CoapConfig;
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

const AMQP_SPEC = {
  port: port(),
  tlsPort: port(),
  channelMax: int(1, 65_535),
  frameMax: int(4096, 16 * 1024 * 1024),
  heartbeat: int(0, 65_535),
  maxMessageSize: int(1, 512 * 1024 * 1024),
  handshakeTimeoutMs: int(100, 3_600_000),
  maxBufferedBytes: int(65_536, 4_294_967_295),
  vhosts: { kind: "string" },
  memoryHighWatermark: int(0, Number.MAX_SAFE_INTEGER),
} satisfies Record<keyof AmqpConfig, FieldSpec>;

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
  amqp: section(AMQP_SPEC),
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
  coap: section(COAP_SPEC),
  sys: section({ intervalMs: int(100, 3_600_000) } satisfies Record<keyof SysConfig, FieldSpec>),
  rpc: section({
    timeoutMs: int(0, 86_400_000),
    maxHttpBody: int(64, 268_435_455),
    maxPendingCalls: int(1, 10_000_000),
  } satisfies Record<keyof RpcConfig, FieldSpec>),
} satisfies Record<keyof Config, FieldSpec>;

/** True when AMQP over TLS should listen: a certificate and key are configured and the port is not off. */
export function amqpTlsEnabled(config: Config): boolean {
  return config.amqp.tlsPort !== "off" && config.tls.cert !== undefined && config.tls.key !== undefined;
}

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
