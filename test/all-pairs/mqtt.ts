/** MQTT 3.1.1 and MQTT 5 with MQTT.js. */
import type { IPublishPacket, MqttClient } from "mqtt";
import { connect, endClient } from "../helpers/mqtt-client.js";
import {
  type GridClient,
  Inbox,
  type InMessage,
  matches,
  type OutMessage,
  type Subscription,
} from "./types.js";

export async function mqttClient(url: string, version: 4 | 5): Promise<GridClient> {
  const client: MqttClient = await connect(url, { protocolVersion: version });
  const subs = new Set<{ filter: string; inbox: Inbox<InMessage> }>();
  client.on("message", (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const p = packet.properties;
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(p?.userProperties ?? {})) props[k] = String(v);
    const got: InMessage = { topic, payload, contentType: p?.contentType, props, persistent: packet.qos > 0 };
    if (p?.correlationData !== undefined) got.correlationId = Buffer.from(p.correlationData).toString("utf8");
    if (p?.responseTopic !== undefined) got.replyTo = p.responseTopic;
    if (p?.messageExpiryInterval !== undefined) got.ttlMs = p.messageExpiryInterval * 1000;
    for (const s of subs) if (matches(s.filter, topic)) s.inbox.push(got);
  });
  return {
    name: version === 5 ? "MQTT 5" : "MQTT 3.1.1",
    wildcards: true,
    contentType: version === 5,
    props: version === 5,
    correlationId: version === 5,
    replyTo: version === 5,
    expiry: version === 5,
    timestamp: false,
    persistent: true,
    async subscribe(filter: string): Promise<Subscription> {
      const s = { filter, inbox: new Inbox<InMessage>() };
      subs.add(s);
      const granted = await client.subscribeAsync(filter, { qos: 1 });
      if (granted[0]!.qos > 2) throw new Error(`SUBACK ${granted[0]!.qos}`);
      return {
        next: (ms) => s.inbox.next(ms),
        async close() {
          subs.delete(s);
          await client.unsubscribeAsync(filter);
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      await client.publishAsync(topic, m.payload, {
        qos: m.persistent === false ? 0 : 1,
        properties:
          version === 5
            ? {
                contentType: m.contentType,
                userProperties: m.props ?? undefined,
                correlationData: m.correlationId === undefined ? undefined : Buffer.from(m.correlationId),
                responseTopic: m.replyTo,
                messageExpiryInterval: m.ttlMs === undefined ? undefined : m.ttlMs / 1000,
              }
            : undefined,
      });
    },
    close: () => endClient(client, true),
  };
}
