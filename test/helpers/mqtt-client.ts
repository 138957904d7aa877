/** Small helpers around MQTT.js for tests: connect with a timeout, wait for messages. */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export async function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timeout")), 5000);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return client;
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: mqtt.IPublishPacket;
}

/** Collects messages; `next(n)` resolves with the first n (or rejects after a timeout). */
export function collect(client: MqttClient): {
  messages: Received[];
  next: (n: number, ms?: number) => Promise<Received[]>;
} {
  const messages: Received[] = [];
  const waiters: Array<{ n: number; resolve: (m: Received[]) => void }> = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload, packet });
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (messages.length >= w.n) {
        waiters.splice(i, 1);
        w.resolve(messages.slice(0, w.n));
      }
    }
  });
  const next = (n: number, ms = 5000): Promise<Received[]> =>
    new Promise((resolve, reject) => {
      if (messages.length >= n) return resolve(messages.slice(0, n));
      const timer = setTimeout(
        () => reject(new Error(`timeout: got ${messages.length} of ${n} messages`)),
        ms,
      );
      waiters.push({
        n,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  return { messages, next };
}

export function endClient(client: MqttClient, force = false): Promise<void> {
  return new Promise((resolve) => client.end(force, {}, () => resolve()));
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
