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
  http: { port: 8080 },
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
