/**
 * Helpers for the MQTT 5 feature tests: a raw-socket client built on the project's codec (for what
 * MQTT.js cannot send or hides), and an MQTT.js connect that also returns the CONNACK.
 */
import { connect as netConnect, type Socket } from "node:net";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { encode, MqttDecoder, type Packet } from "../../../src/protocols/mqtt/codec/index.js";
import type { ConnectPacket, Properties } from "../../../src/protocols/mqtt/codec/packets.js";

export interface RawClient {
  socket: Socket;
  /** Every packet received, in order. */
  received: Packet[];
  send(p: Packet): void;
  /** Resolves with the next not yet consumed packet (of `cmd`, when given; others are skipped). */
  next(cmd?: Packet["cmd"], ms?: number): Promise<Packet>;
  /** Resolves when the broker closes the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
  destroy(): void;
}

export async function rawConnect(port: number): Promise<RawClient> {
  const socket = netConnect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const decoder = new MqttDecoder({ maxPacketSize: 268_435_455 });
  decoder.version = 5;
  const received: Packet[] = [];
  let consumed = 0;
  let wake: (() => void) | undefined;
  let closedFlag = false;
  socket.on("data", (chunk) => {
    decoder.push(chunk, (p) => received.push(p));
    wake?.();
  });
  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      closedFlag = true;
      wake?.();
      resolve();
    });
  });
  const next = async (cmd?: Packet["cmd"], ms = 5000): Promise<Packet> => {
    const deadline = Date.now() + ms;
    for (;;) {
      while (consumed < received.length) {
        const p = received[consumed++]!;
        if (cmd === undefined || p.cmd === cmd) return p;
      }
      if (closedFlag) throw new Error(`connection closed while waiting for ${cmd ?? "a packet"}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${cmd ?? "a packet"}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          wake = undefined;
          resolve();
        };
      });
    }
  };
  return {
    socket,
    received,
    send: (p) => socket.write(encode(p, 5)),
    next,
    closed,
    isClosed: () => closedFlag,
    destroy: () => socket.destroy(),
  };
}

/** A v5 CONNECT packet with defaults. */
export function connectPacket(clientId: string, properties?: Properties, extra: Partial<ConnectPacket> = {}) {
  return {
    cmd: "connect",
    protocolName: "MQTT",
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    clientId,
    properties,
    ...extra,
  } satisfies ConnectPacket;
}

/** Resolves when the promise settles or rejects after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * MQTT.js v5 connect that also returns the CONNACK packet. `before` runs before the CONNACK arrives
 * (to attach a message listener for messages queued in a resumed session).
 */
export async function connect5(
  url: string,
  opts: IClientOptions = {},
  before?: (client: MqttClient) => void,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  before?.(client);
  const connack = await within(
    new Promise<IConnackPacket>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("error", reject);
    }),
    5000,
    "connect",
  ).catch((err: unknown) => {
    client.end(true);
    throw err;
  });
  return { client, connack };
}

/** Waits for MQTT.js to report a DISCONNECT from the server; resolves with its reason code. */
export function nextDisconnect(client: MqttClient, ms = 5000): Promise<number | undefined> {
  return within(
    new Promise<number | undefined>((resolve) => client.once("disconnect", (p) => resolve(p.reasonCode))),
    ms,
    "server DISCONNECT",
  );
}
