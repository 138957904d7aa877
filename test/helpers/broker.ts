/** Starts a real broker on 127.0.0.1 with ephemeral ports and a memory store, for integration tests. */
import { type BrokerHandle, type BrokerOverrides, startBroker } from "../../src/broker.js";
import { defaultConfig } from "../../src/config/defaults.js";
import type { CoapConfig, Config, MqttConfig, StompConfig, XmppConfig } from "../../src/config/schema.js";
import { AllowAllAuth } from "../../src/core/auth.js";
import { createLogger, nullLogger } from "../../src/core/logger.js";
import { MemoryStore } from "../../src/store/memory-store.js";

export interface TestBroker {
  handle: BrokerHandle;
  mqttPort: number;
  httpPort: number;
  /** WAMP RawSocket port. */
  wampPort: number;
  mqttUrl: string;
  /** WAMP over WebSocket: ws://127.0.0.1:<http>/ws */
  wampUrl: string;
  /** CoAP (UDP) on 127.0.0.1, and on ::1 when the machine has IPv6 (else undefined). */
  coapPort: number;
  coap6Port: number | undefined;
  wsUrl: string;
  /** STOMP over TCP (port 0 unless opts.stomp says otherwise) and over WebSocket at /stomp. */
  stompPort: number;
  stompWsUrl: string;
  amqpPort: number;
  amqpUrl: string;
  /** XMPP client-to-server port and the RFC 7395 WebSocket URL. */
  xmppPort: number;
  xmppWsUrl: string;
  store: MemoryStore;
  close(): Promise<void>;
}

export interface TestBrokerOptions extends BrokerOverrides {
  mqtt?: Partial<MqttConfig>;
  stomp?: Partial<StompConfig>;
  xmpp?: Partial<XmppConfig>;
  coap?: Partial<CoapConfig>;
  config?: (c: Config) => void;
}

export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const config = defaultConfig();
  config.host = "127.0.0.1";
  config.store = "memory";
  config.mqtt.port = 0;
  config.mqtt.tlsPort = "off";
  config.http.port = 0;
  config.http.tlsPort = "off";
  config.wamp.port = 0;
  config.amqp.port = 0;
  config.amqp.tlsPort = "off";
  config.sys.intervalMs = 60_000;
  Object.assign(config.mqtt, opts.mqtt);
  config.stomp.port = 0;
  config.stomp.tlsPort = "off";
  Object.assign(config.stomp, opts.stomp);
  config.xmpp.port = 0;
  config.xmpp.tlsPort = "off";
  Object.assign(config.xmpp, opts.xmpp);
  config.coap.port = 0;
  Object.assign(config.coap, opts.coap);
  opts.config?.(config);
  const store = (opts.store as MemoryStore | undefined) ?? new MemoryStore();
  const log = process.env.SWITCHBOARD_TEST_LOG ? createLogger("debug") : nullLogger;
  const handle = await startBroker(config, log, { auth: new AllowAllAuth(), ...opts, store });
  const mqttPort = handle.ports.mqtt!;
  const httpPort = handle.ports.http ?? 0;
  const amqpPort = handle.ports.amqp ?? 0;
  return {
    handle,
    mqttPort,
    httpPort,
    wampPort: handle.ports.wamp ?? 0,
    wampUrl: `ws://127.0.0.1:${httpPort}/ws`,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    coapPort: handle.ports.coap ?? 0,
    coap6Port: handle.ports.coap6,
    wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
    stompPort: handle.ports.stomp ?? 0,
    stompWsUrl: `ws://127.0.0.1:${httpPort}/stomp`,
    amqpPort,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    xmppPort: handle.ports.xmpp ?? 0,
    xmppWsUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    store,
    close: () => handle.close(),
  };
}
