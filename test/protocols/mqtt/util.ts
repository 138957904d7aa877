/** Shared helpers for the MQTT integration tests. */
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { startTestBroker, type TestBroker, type TestBrokerOptions } from "../../helpers/broker.js";
import { collect, endClient } from "../../helpers/mqtt-client.js";

/**
 * Publishes a marker the collector's client also subscribes to and waits for it: everything sent
 * before it has arrived. Returns the messages received from index `since` up to the marker.
 */
export async function barrier(
  pub: MqttClient,
  got: ReturnType<typeof collect>,
  since = got.messages.length,
  topic = "marker",
): Promise<ReturnType<typeof collect>["messages"]> {
  const n = since;
  await pub.publishAsync(topic, "", { qos: 1 });
  for (let k = n + 1; ; k++) {
    const ms = await got.next(k);
    if (ms[k - 1]!.topic === topic) return ms.slice(n, k - 1);
  }
}

/** Runs `fn` with a fresh broker; every client pushed to `clients` is closed afterwards, then the broker. */
export async function withBroker(
  fn: (b: TestBroker, clients: MqttClient[]) => Promise<void>,
  opts: TestBrokerOptions = {},
): Promise<void> {
  const b = await startTestBroker(opts);
  const clients: MqttClient[] = [];
  try {
    await fn(b, clients);
  } finally {
    for (const c of clients) await endClient(c, true);
    await b.close();
  }
}

/** Resolves when `cond()` holds, polling every 10 ms; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Connects with MQTT.js and collects messages from the first packet on (messages a resumed session
 * gets right after CONNACK are not missed). Resolves with the CONNACK too.
 */
export async function open(
  url: string,
  opts: IClientOptions,
): Promise<{ client: MqttClient; got: ReturnType<typeof collect>; connack: IConnackPacket }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  const got = collect(client);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timeout")), 5000);
    client.once("connect", (p) => {
      clearTimeout(timer);
      resolve(p);
    });
    client.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { client, got, connack };
}
