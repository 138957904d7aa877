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
import { MqttAdapter } from "./protocols/mqtt/adapter.js";
import type { EnhancedAuthMethod } from "./protocols/mqtt/enhanced-auth.js";
import { mqttOptionsFrom } from "./protocols/mqtt/options.js";
import { XmppAdapter } from "./protocols/xmpp/adapter.js";
import { xmppOptionsFrom } from "./protocols/xmpp/options.js";
import { createStore } from "./store/create-store.js";
import type { Store } from "./store/store.js";
import { createHttpServer } from "./transports/http.js";
import { listenTcp } from "./transports/tcp.js";
import { listenTls } from "./transports/tls.js";
import type { Listener } from "./transports/types.js";

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
  readonly ports: { mqtt?: number; mqtts?: number; http?: number; xmpp?: number; xmpps?: number };
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
  let xmpp: XmppAdapter | undefined;
  const ports: BrokerHandle["ports"] = {};
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
    // XMPP (RFC 6120 over TCP with STARTTLS when a certificate is set, direct TLS, RFC 7395 WebSocket)
    const x = config.xmpp;
    xmpp = new XmppAdapter(router, xmppOptionsFrom(x, tlsFiles !== undefined), log, tlsFiles);
    const acceptXmpp = xmpp.accept.bind(xmpp);
    if (x.port !== "off") {
      const l = await listenTcp({ host, port: x.port }, acceptXmpp);
      listeners.push(l);
      ports.xmpp = l.port;
      log.info("xmpp listening", { host, port: l.port, domain: x.domain });
    }
    if (tlsFiles && x.tlsPort !== "off") {
      const l = await listenTls({ host, port: x.tlsPort, ...tlsFiles }, acceptXmpp);
      listeners.push(l);
      ports.xmpps = l.port;
      log.info("xmpps listening", { host, port: l.port });
    }
    if (config.http.port !== "off") {
      const http = createHttpServer({ host, port: config.http.port, maxPayload: m.maxPacketSize + 16 });
      http.addWebSocketEndpoint("/mqtt", ["mqtt", "mqttv3.1"], accept);
      http.addWebSocketEndpoint("/xmpp-websocket", ["xmpp"], acceptXmpp, { text: true });
      const l = await http.listen();
      listeners.push(l);
      ports.http = l.port;
      log.info("http listening (WebSocket MQTT at /mqtt)", { host, port: l.port });
    }
  } catch (err) {
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
      await xmpp?.drained(1000);
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
