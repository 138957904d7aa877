/**
 * Limits and switches of the MQTT adapter. They are the `mqtt.*` config keys (documented in
 * src/config/schema.ts and the README), less the listener ports and the router's queue bound, plus
 * the pluggable enhanced-authentication methods.
 */
import { DEFAULT_CONFIG } from "../../config/defaults.js";
import type { MqttConfig } from "../../config/schema.js";
import type { EnhancedAuthMethod } from "./enhanced-auth.js";

export type MqttOptions = Omit<MqttConfig, "port" | "tlsPort" | "maxQueuedMessages" | "maxQueuedBytes"> & {
  /** Enhanced authentication methods by name (MQTT 5 AUTH packet, §4.12). */
  authMethods?: Map<string, EnhancedAuthMethod>;
};

export function mqttOptionsFrom(
  config: MqttConfig,
  authMethods?: Map<string, EnhancedAuthMethod>,
): MqttOptions {
  const {
    port: _port,
    tlsPort: _tlsPort,
    maxQueuedMessages: _queued,
    maxQueuedBytes: _bytes,
    ...limits
  } = config;
  return { ...limits, authMethods };
}

export const DEFAULT_MQTT_OPTIONS: MqttOptions = mqttOptionsFrom(DEFAULT_CONFIG.mqtt);
