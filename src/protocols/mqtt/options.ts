/** Limits and switches of the MQTT adapter; every one is a config key (config.mqtt.*). */
import type { EnhancedAuthMethod } from "./enhanced-auth.js";

export interface MqttOptions {
  /** Largest packet accepted from a client (announced as Maximum Packet Size in v5). */
  maxPacketSize: number;
  /** In-flight QoS 1/2 messages accepted from a client (our Receive Maximum) and sent to it. */
  maxInflight: number;
  maxTopicLevels: number;
  /** Topic aliases a v5 client may use towards us (our Topic Alias Maximum). */
  maxTopicAlias: number;
  /** A connection that sends no CONNECT within this time is dropped. */
  connectTimeoutMs: number;
  /** Upper bound for a client's keep alive, in seconds (0 = no cap): sent as Server Keep Alive. */
  keepAliveMax: number;
  /** Upper bound for a v5 session expiry interval, in seconds. */
  maxSessionExpiry: number;
  retainAvailable: boolean;
  maxQoS: 0 | 1 | 2;
  maxClientIdLength: number;
  /** Bytes buffered for a slow reader before QoS 0 messages to it are dropped. */
  maxBufferedBytes: number;
  /** Enhanced authentication methods by name (MQTT 5 AUTH packet, §4.12). */
  authMethods?: Map<string, EnhancedAuthMethod>;
}

export const DEFAULT_MQTT_OPTIONS: MqttOptions = {
  maxPacketSize: 1024 * 1024,
  maxInflight: 100,
  maxTopicLevels: 128,
  maxTopicAlias: 64,
  connectTimeoutMs: 10_000,
  keepAliveMax: 0,
  maxSessionExpiry: 0xffffffff,
  retainAvailable: true,
  maxQoS: 2,
  maxClientIdLength: 256,
  maxBufferedBytes: 8 * 1024 * 1024,
};
