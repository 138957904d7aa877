/**
 * Wires one broker instance: store, auth, router, protocol adapters and listeners. Several
 * brokers can run in one process (tests do): nothing here is global.
 */
import { readFileSync } from "node:fs";
import { installAdminApi } from "./admin/index.js";
import { packageVersion } from "./cli/version.js";
import { checkAnonymousPolicy } from "./config/policy.js";
import type { Config } from "./config/schema.js";
import { amqpTlsEnabled, httpTlsEnabled, mqttTlsEnabled, stompTlsEnabled } from "./config/schema.js";
import { createAuth } from "./core/auth/file-auth.js";
import type { Auth } from "./core/auth.js";
import type { Logger } from "./core/logger.js";
import { Router } from "./core/router.js";
import { SysPublisher } from "./core/sys-topics.js";
import { sniffAmqp } from "./protocols/amqp-common/sniff.js";
import { Amqp10Adapter } from "./protocols/amqp10/adapter.js";
import { amqp10OptionsFrom } from "./protocols/amqp10/options.js";
import { Amqp091Adapter } from "./protocols/amqp091/adapter.js";
import { amqp091OptionsFrom } from "./protocols/amqp091/options.js";
import { CoapAdapter } from "./protocols/coap/adapter.js";
import { coapOptionsFrom } from "./protocols/coap/options.js";
import { MqttAdapter } from "./protocols/mqtt/adapter.js";
import type { EnhancedAuthMethod } from "./protocols/mqtt/enhanced-auth.js";
import { mqttOptionsFrom } from "./protocols/mqtt/options.js";
import { STOMP_WS_PROTOCOLS, StompAdapter } from "./protocols/stomp/adapter.js";
import { WAMP_SUBPROTOCOLS, WampAdapter } from "./protocols/wamp/adapter.js";
import { wampOptionsFrom } from "./protocols/wamp/options.js";
import { XmppAdapter } from "./protocols/xmpp/adapter.js";
import { xmppOptionsFrom } from "./protocols/xmpp/options.js";
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

/** The ports actually bound, by listener (useful with port 0). */
export interface BrokerPorts {
  mqtt?: number;
  mqtts?: number;
  http?: number;
  https?: number;
  stomp?: number;
  stomps?: number;
  wamp?: number;
  amqp?: number;
  amqps?: number;
  xmpp?: number;
  xmpps?: number;
  coap?: number;
  coap6?: number;
}

export interface BrokerHandle {
  readonly router: Router;
  /** The ports actually bound (useful with port 0). */
  readonly ports: BrokerPorts;
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
  router.dealer.defaultTimeoutMs = config.rpc.timeoutMs;
  router.dealer.maxPendingCalls = config.rpc.maxPendingCalls;
  await router.start();

  const m = config.mqtt;
  const mqtt = new MqttAdapter(router, mqttOptionsFrom(m, overrides.mqttAuthMethods), log);
  const accept = mqtt.accept.bind(mqtt);
  const { port: stompPort, tlsPort: stompTlsPort, ...stompOptions } = config.stomp;
  const stomp = new StompAdapter(router, stompOptions, log);
  const acceptStomp = stomp.accept.bind(stomp);
  const wamp = new WampAdapter(router, wampOptionsFrom(config.wamp), log);

  // AMQP: one listener per port for every AMQP version; the protocol header picks the adapter.
  const amqp091 = new Amqp091Adapter(router, amqp091OptionsFrom(config), log);
  const amqp10 = new Amqp10Adapter(router, amqp10OptionsFrom(config), log, config.amqp.memoryHighWatermark);
  const acceptAmqp = sniffAmqp({
    protocols: [amqp091.protocol, ...amqp10.protocols],
    preferred: amqp091.protocol.header,
    timeoutMs: config.amqp.handshakeTimeoutMs,
  });

  const listeners: Listener[] = [];
  let xmpp: XmppAdapter | undefined;
  const ports: BrokerPorts = {};
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
    if (config.amqp.port !== "off") {
      const l = await listenTcp({ host, port: config.amqp.port }, acceptAmqp);
      listeners.push(l);
      ports.amqp = l.port;
      log.info("amqp listening", { host, port: l.port });
    }
    if (amqpTlsEnabled(config) && tlsFiles && config.amqp.tlsPort !== "off") {
      const l = await listenTls({ host, port: config.amqp.tlsPort, ...tlsFiles }, acceptAmqp);
      listeners.push(l);
      ports.amqps = l.port;
      log.info("amqps listening", { host, port: l.port });
    }
    if (stompPort !== "off") {
      const l = await listenTcp({ host, port: stompPort }, acceptStomp);
      listeners.push(l);
      ports.stomp = l.port;
      log.info("stomp listening", { host, port: l.port });
    }
    if (stompTlsEnabled(config) && tlsFiles && stompTlsPort !== "off") {
      const l = await listenTls({ host, port: stompTlsPort, ...tlsFiles }, acceptStomp);
      listeners.push(l);
      ports.stomps = l.port;
      log.info("stomps listening", { host, port: l.port });
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
    // One HTTP server (and its HTTPS twin when a certificate is configured) with the WebSocket
    // endpoints of every protocol; each protocol enforces its own limit with its own error, so the
    // WebSocket limit is the largest of them.
    const maxPayload = Math.max(m.maxPacketSize, config.stomp.maxFrameSize, config.xmpp.maxStanzaSize) + 16;
    const httpServer = async (port: number, tls: typeof tlsFiles): Promise<Listener> => {
      const http = createHttpServer({ host, port, maxPayload, tls });
      http.addWebSocketEndpoint("/mqtt", ["mqtt", "mqttv3.1"], accept);
      http.addWebSocketEndpoint("/stomp", STOMP_WS_PROTOCOLS, stomp.acceptWebSocket.bind(stomp));
      // Messages somewhat over the limit still arrive, so the session ends with a WAMP ABORT.
      const wampLimit = config.wamp.maxMessageSize + 64 * 1024;
      http.addWebSocketMessageEndpoint("/ws", WAMP_SUBPROTOCOLS, wamp.acceptWebSocket, wampLimit);
      http.addWebSocketEndpoint("/xmpp-websocket", ["xmpp"], acceptXmpp, { text: true });
      installAdminApi(http, router, { maxBodyBytes: config.rpc.maxHttpBody });
      return http.listen();
    };
    const endpoints = "WebSocket MQTT at /mqtt, STOMP at /stomp, WAMP at /ws, XMPP at /xmpp-websocket";
    if (config.http.port !== "off") {
      const l = await httpServer(config.http.port, undefined);
      listeners.push(l);
      ports.http = l.port;
      log.info(`http listening (${endpoints})`, { host, port: l.port });
    }
    if (httpTlsEnabled(config) && tlsFiles && config.http.tlsPort !== "off") {
      const l = await httpServer(config.http.tlsPort, tlsFiles);
      listeners.push(l);
      ports.https = l.port;
      log.info(`https listening (${endpoints})`, { host, port: l.port });
    }
    if (config.wamp.port !== "off") {
      const l = await listenTcp({ host, port: config.wamp.port }, wamp.acceptRawSocket);
      listeners.push(l);
      ports.wamp = l.port;
      log.info("wamp rawsocket listening", { host, port: l.port });
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
    amqp091.close();
    amqp10.close();
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
      await Promise.all([
        mqtt.drained(1000),
        stomp.drained(1000),
        wamp.drained(1000),
        amqp091.drained(1000),
        xmpp?.drained(1000),
        amqp10.drained(1000),
      ]);
      amqp091.close();
      amqp10.close();
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
