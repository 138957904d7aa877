/**
 * Wires one broker instance: store, auth, router, protocol adapters and listeners. Several
 * brokers can run in one process (tests do): nothing here is global.
 */
import { readFileSync } from "node:fs";
import { packageVersion } from "./cli/version.js";
import { checkAnonymousPolicy } from "./config/policy.js";
import type { Config } from "./config/schema.js";
import { mqttTlsEnabled } from "./config/schema.js";
import { createAuth } from "./core/auth/file-auth.js";
import type { Auth } from "./core/auth.js";
import type { Logger } from "./core/logger.js";
import { Router } from "./core/router.js";
import { SysPublisher } from "./core/sys-topics.js";
import { CoapAdapter } from "./protocols/coap/adapter.js";
import { coapOptionsFrom } from "./protocols/coap/options.js";
import { MqttAdapter } from "./protocols/mqtt/adapter.js";
import type { EnhancedAuthMethod } from "./protocols/mqtt/enhanced-auth.js";
import { mqttOptionsFrom } from "./protocols/mqtt/options.js";
import { createStore } from "./store/create-store.js";
import type { Store } from "./store/store.js";
import { createHttpServer } from "./transports/http.js";
import { listenTcp } from "./transports/tcp.js";
import { listenTls } from "./transports/tls.js";
import type { Listener } from "./transports/types.js";
import { ipv6Companion, listenCoap } from "./transports/udp.js";

export interface BrokerOverrides {
  /** Use this Auth instead of the users/ACL files (tests, embedding). */
  auth?: Auth;
  /** Use this Store instead of creating one from config.store (tests restart on the same store). */
  store?: Store;
  /** MQTT 5 enhanced authentication methods by name. */
  mqttAuthMethods?: Map<string, EnhancedAuthMethod>;
}

export interface BrokerHandle {
  readonly router: Router;
  /** The ports actually bound (useful with port 0). */
  readonly ports: { mqtt?: number; mqtts?: number; http?: number; coap?: number; coap6?: number };
  /** Re-reads the users and ACL files (SIGHUP); a broken file keeps the old ones. */
  reloadAuth(): Promise<void>;
  close(): Promise<void>;
}

export async function startBroker(
  config: Config,
  log: Logger,
  overrides: BrokerOverrides = {},
): Promise<BrokerHandle> {
  const policy = checkAnonymousPolicy(config);
  if (policy.error) throw new Error(policy.error);
  const auth = overrides.auth ?? (await createAuth(config));
  const store =
    overrides.store ?? createStore(config.store, config.dataDir, { durability: config.durability });
  const router = new Router({
    store,
    auth,
    log,
    limits: { maxQueuedMessages: config.mqtt.maxQueuedMessages, maxQueuedBytes: config.mqtt.maxQueuedBytes },
  });
  await router.start();

  const m = config.mqtt;
  const mqtt = new MqttAdapter(router, mqttOptionsFrom(m, overrides.mqttAuthMethods), log);
  const accept = mqtt.accept.bind(mqtt);

  const listeners: Listener[] = [];
  const ports: BrokerHandle["ports"] = {};
  const coap =
    config.coap.port !== "off" ? new CoapAdapter(router, coapOptionsFrom(config.coap), log) : undefined;
  const host = config.host;
  try {
    if (m.port !== "off") {
      const l = await listenTcp({ host, port: m.port }, accept);
      listeners.push(l);
      ports.mqtt = l.port;
      log.info("mqtt listening", { host, port: l.port });
    }
    const tls = config.tls;
    const tlsFiles =
      tls.cert && tls.key
        ? {
            cert: readFileSync(tls.cert),
            key: readFileSync(tls.key),
            ca: tls.ca ? readFileSync(tls.ca) : undefined,
          }
        : undefined;
    if (mqttTlsEnabled(config) && tlsFiles && m.tlsPort !== "off") {
      const l = await listenTls({ host, port: m.tlsPort, ...tlsFiles }, accept);
      listeners.push(l);
      ports.mqtts = l.port;
      log.info("mqtts listening", { host, port: l.port });
    }
    if (config.http.port !== "off") {
      const http = createHttpServer({ host, port: config.http.port, maxPayload: m.maxPacketSize + 16 });
      http.addWebSocketEndpoint("/mqtt", ["mqtt", "mqttv3.1"], accept);
      const l = await http.listen();
      listeners.push(l);
      ports.http = l.port;
      log.info("http listening (WebSocket MQTT at /mqtt)", { host, port: l.port });
    }
    if (coap !== undefined && config.coap.port !== "off") {
      const v6host = config.coap.ipv6 ? ipv6Companion(host) : undefined;
      const l = await listenCoap(
        host,
        config.coap.port,
        v6host,
        config.coap.multicast,
        coap.handleDatagram,
        log,
      );
      listeners.push(...l.listeners);
      ports.coap = l.port;
      ports.coap6 = l.port6;
      log.info("coap listening (udp)", { host, port: l.port, ipv6: v6host, port6: l.port6 });
    }
  } catch (err) {
    coap?.close();
    await Promise.all(listeners.map((l) => l.close()));
    await router.close();
    await store.close();
    throw err;
  }

  const sys = new SysPublisher(router, packageVersion(), config.sys.intervalMs);
  sys.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      sys.stop();
      // MQTT 5 clients get DISCONNECT 0x8B; every connection is ended and flushed before the
      // listeners go away, then the store commits what is left.
      await router.close();
      await mqtt.drained(1000);
      coap?.close();
      await Promise.all(listeners.map((l) => l.close()));
      await store.close();
    })();
    return closing;
  };
  const reloadAuth = async (): Promise<void> => {
    const a = auth as Auth & { reload?: () => Promise<void> };
    if (a.reload) await a.reload();
  };
  return { router, ports, reloadAuth, close };
}
