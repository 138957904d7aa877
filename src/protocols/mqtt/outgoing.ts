/**
 * Messages from the router to one MQTT client: QoS 0 straight out, QoS 1/2 through the in-flight
 * window (the client's Receive Maximum), the rest waiting in the session queue. Encodes once per
 * (version, retain) for QoS 0 messages without per-subscriber fields and shares the bytes.
 */
import { isExpired, type Message, type QoS } from "../../core/message.js";
import type { Delivery, Subscription } from "../../core/session.js";
import { encodePublish } from "./codec/index.js";
import type { Properties, PublishPacket } from "./codec/packets.js";
import type { MqttConnection } from "./connection.js";
import { hasNoPerMessageProperties, propertiesToMqtt } from "./message-mapping.js";

export function sendQuota(c: MqttConnection): number {
  return Math.min(c.clientReceiveMaximum, c.options.maxInflight);
}

export function deliver(
  c: MqttConnection,
  message: Message,
  qos: QoS,
  retain: boolean,
  sub: Subscription | undefined,
): void {
  const session = c.session!;
  if (c.readChecked && !mayRead(c, message)) return;
  const subscriptionId = sub?.options.subscriptionId;
  if (qos === 0) {
    if (c.state !== "connected") return;
    // A slow reader fills its own bounded buffer; past it, transient messages are dropped.
    if (c.stream.writableLength > c.options.maxBufferedBytes) {
      c.router.stats.messagesDropped++;
      return;
    }
    sendPublish(c, message, 0, retain, subscriptionId, undefined, false);
    return;
  }
  if (c.state !== "connected" || session.queue.length > 0 || session.inflight.size >= sendQuota(c)) {
    c.router.enqueue(session, message, qos, retain, subscriptionId);
    return;
  }
  startInflight(c, { seq: c.router.nextSeq(), message, qos, retain, subscriptionId, state: "queued" }, false);
}

/**
 * Sends `d` under a new packet id. `stored`: `d` came from the session queue, so a persistent
 * session already has its row and only its packet id and state change (no rewrite of the payload);
 * otherwise the whole delivery is written.
 */
function startInflight(c: MqttConnection, d: Delivery, stored: boolean): boolean {
  const session = c.session!;
  const packetId = session.nextPacketId();
  if (packetId === 0) return false;
  d.packetId = packetId;
  d.state = "publish";
  session.inflight.set(packetId, d);
  if (session.persistent) {
    if (stored) c.router.store.updateDelivery(session.clientId, d.seq, packetId, "publish");
    else c.router.store.saveDelivery({ clientId: session.clientId, ...d });
  }
  sendPublish(c, d.message, d.qos, d.retain, d.subscriptionId, packetId, false);
  return true;
}

/** The per-message ACL check for clients with a partly allowed subscription (see MqttConnection.readChecked). */
function mayRead(c: MqttConnection, message: Message): boolean {
  return c.router.auth.authorize(c.principal!, "subscribe", message.topic);
}

/** Moves queued messages into the in-flight window while there is room. */
export function pump(c: MqttConnection): void {
  const session = c.session;
  if (!session || c.state !== "connected") return;
  const now = Date.now();
  const quota = sendQuota(c);
  while (session.queue.length > 0 && session.inflight.size < quota) {
    const d = session.queue.peek()!;
    if (isExpired(d.message, now) || (c.readChecked && !mayRead(c, d.message))) {
      session.shiftQueued();
      if (session.persistent) c.router.store.deleteDelivery(session.clientId, d.seq);
      continue;
    }
    if (!startInflight(c, d, true)) break;
    session.shiftQueued();
  }
}

/** On session resume: resend every unacknowledged PUBLISH with DUP and every PUBREL ([MQTT-4.4.0-1]). */
export function resendInflight(c: MqttConnection): void {
  const session = c.session!;
  for (const d of session.inflight.values()) {
    if (d.state === "pubrel") c.send({ cmd: "pubrel", packetId: d.packetId! });
    else sendPublish(c, d.message, d.qos, d.retain, d.subscriptionId, d.packetId, true);
  }
}

/** Completes an outgoing delivery (PUBACK, PUBCOMP, or an error reason) and refills the window. */
export function completeInflight(c: MqttConnection, packetId: number): void {
  const session = c.session!;
  const d = session.inflight.get(packetId);
  if (!d) return;
  session.inflight.delete(packetId);
  if (session.persistent) c.router.store.deleteDelivery(session.clientId, d.seq);
  pump(c);
}

function sendPublish(
  c: MqttConnection,
  message: Message,
  qos: QoS,
  retain: boolean,
  subscriptionId: number | undefined,
  packetId: number | undefined,
  dup: boolean,
): void {
  const v5 = c.version === 5;
  const shareable =
    qos === 0 &&
    (!v5 ||
      (subscriptionId === undefined &&
        c.clientTopicAliasMaximum === 0 &&
        message.properties.expiresAt === undefined));
  if (shareable) {
    const key = v5 ? (retain ? "mqtt5r" : "mqtt5") : retain ? "mqtt4r" : "mqtt4";
    let cache = message.encoded;
    let buf = cache?.get(key);
    if (buf === undefined) {
      const props =
        v5 && !hasNoPerMessageProperties(message) ? propertiesToMqtt(message, Date.now()) : undefined;
      buf = encodePublish(
        {
          cmd: "publish",
          topic: message.topic,
          payload: message.payload,
          qos: 0,
          retain,
          dup: false,
          properties: props,
        },
        c.version,
      );
      if (!cache) {
        cache = new Map();
        message.encoded = cache;
      }
      cache.set(key, buf);
    }
    c.write(buf);
    return;
  }
  const packet: PublishPacket = {
    cmd: "publish",
    topic: message.topic,
    payload: message.payload,
    qos,
    retain,
    dup,
    packetId,
  };
  if (v5) {
    let props: Properties | undefined = propertiesToMqtt(message, Date.now());
    if (subscriptionId !== undefined) props = { ...props, subscriptionIdentifiers: [subscriptionId] };
    if (c.clientTopicAliasMaximum > 0) props = applyTopicAlias(c, packet, props);
    packet.properties = props;
  }
  const buf = encodePublish(packet, c.version);
  if (c.clientMaxPacketSize > 0 && buf.length > c.clientMaxPacketSize) {
    // Too big for this client: discarded as if delivered ([MQTT-3.1.2-25]).
    c.router.stats.messagesDropped++;
    // An alias assigned by this packet never reached the client: forget it, or the next message
    // would use an alias the client does not know (§3.3.2.3.4).
    if (packet.topic !== "" && packet.properties?.topicAlias !== undefined) {
      c.outboundAliases.delete(packet.topic);
    }
    if (packetId !== undefined) completeInflight(c, packetId);
    return;
  }
  c.write(buf);
}

/** Uses or assigns a topic alias towards the client, within its Topic Alias Maximum (§3.3.2.3.4). */
function applyTopicAlias(
  c: MqttConnection,
  packet: PublishPacket,
  props: Properties | undefined,
): Properties {
  const existing = c.outboundAliases.get(packet.topic);
  if (existing !== undefined) {
    packet.topic = "";
    return { ...props, topicAlias: existing };
  }
  if (c.outboundAliases.size < c.clientTopicAliasMaximum) {
    const alias = c.outboundAliases.size + 1;
    c.outboundAliases.set(packet.topic, alias);
    return { ...props, topicAlias: alias };
  }
  return props ?? {};
}
