import type { Config } from "./schema.js";

/** Every default in one place. Frozen: copy it (structuredClone) before changing anything. */
export const DEFAULT_CONFIG: Readonly<Config> = deepFreeze({
  host: "127.0.0.1",
  dataDir: "./data",
  store: "sqlite",
  durability: "normal",
  logLevel: "info",
  allowAnonymous: undefined,
  auth: {},
  tls: {},
  mqtt: {
    port: 1883,
    tlsPort: 8883,
    maxPacketSize: 1_048_576,
    maxInflight: 100,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 0,
    maxTopicLevels: 128,
    maxTopicAlias: 64,
    connectTimeoutMs: 10_000,
    keepAliveMax: 0,
    maxSessionExpiry: 0xffff_ffff,
    retainAvailable: true,
    maxQoS: 2,
    maxClientIdLength: 256,
    maxBufferedBytes: 8 * 1024 * 1024,
  },
  stomp: {
    port: 61613,
    tlsPort: 61614,
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
  },
  http: { port: 8080, tlsPort: 8443 },
  wamp: {
    port: 8081,
    realms: ["realm1"],
    autoCreateRealms: false,
    anonymousRealms: ["*"],
    maxMessageSize: 1_048_576,
    uriCheck: "loose",
    eventHistory: 0,
    helloTimeoutMs: 10_000,
    maxBufferedBytes: 8 * 1024 * 1024,
  },
  amqp: {
    port: 5672,
    tlsPort: 5671,
    channelMax: 2047,
    frameMax: 131_072,
    heartbeat: 60,
    maxMessageSize: 16 * 1024 * 1024,
    handshakeTimeoutMs: 10_000,
    maxBufferedBytes: 8 * 1024 * 1024,
    vhosts: "/",
    memoryHighWatermark: 0,
  },
  xmpp: {
    port: 5222,
    tlsPort: 5223,
    domain: "localhost",
    maxStanzaSize: 262_144,
    maxDepth: 32,
    authTimeoutMs: 30_000,
    resumeTimeoutSec: 300,
    maxOfflineMessages: 1000,
    maxBufferedBytes: 4 * 1024 * 1024,
    pingIntervalSec: 60,
  },
  coap: {
    port: 5683,
    ipv6: true,
    multicast: false,
    ackTimeoutMs: 2000,
    maxRetransmit: 4,
    nstart: 1,
    blockSize: 1024,
    maxPayloadSize: 1_048_576,
    observeConEvery: 100,
    maxObserversPerPeer: 256,
    maxPeers: 100_000,
    rateLimit: 1000,
    rateBurst: 2000,
    amplificationFactor: 3,
  },
  sys: { intervalMs: 5000 },
  rpc: { timeoutMs: 30_000, maxHttpBody: 1_048_576, maxPendingCalls: 1000 },
});

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): Config {
  return structuredClone(DEFAULT_CONFIG) as Config;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
