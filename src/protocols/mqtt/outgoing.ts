/**
 * Messages from the router to one MQTT client: QoS 0 straight out, QoS 1/2 through the in-flight
 * window (the client's Receive Maximum), the rest waiting in the session queue. A message without
 * per-subscriber fields is encoded once per (version, retain) at QoS 0 and shared, and once per
 * version at QoS 1/2 as a template copied per delivery with its packet id and flags patched in; the
 * bytes a publisher sent are that packet (or template) already when nothing changes (seedEncoded).
 */
import {
  detachFromReadBuffer,
  type EncodedCache,
  isExpired,
  type Message,
  type QoS,
} from "../../core/message.js";
import type { Delivery, Subscription } from "../../core/session.js";
import { ARENA_MAX_COPY } from "../../transports/output-arena.js";
import { encodePublish } from "./codec/index.js";
import type { Properties, ProtocolVersion, PublishPacket } from "./codec/packets.js";
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
    // QoS 2 needs the packet id stored: after a restart the message must go out again under the same
    // id, or a receiver that already has it would take it twice. A QoS 1 message sent again after a
    // restart under a new id is only the duplicate QoS 1 allows, so its row is not touched here.
    if (!stored) c.router.store.saveDelivery({ clientId: session.clientId, ...d });
    else if (d.qos === 2) c.router.store.updateDelivery(session.clientId, d.seq, packetId, "publish");
    if (d.qos === 2) c.holdWrites();
  }
  sendPublish(c, d.message, d.qos, d.retain, d.subscriptionId, packetId, false);
  // Held until acknowledged: after it went out (its cached bytes served), stop pinning the read
  // buffer. A message from the session queue was detached when it was queued.
  if (!stored) detachFromReadBuffer(d.message);
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

/**
 * Message.encoded for MQTT: the few entries a message ever gets (usually one) in plain fields, lighter
 * than a Map per message. Keys: "mqtt4"/"mqtt4r"/"mqtt5"/"mqtt5r" are whole QoS 0 packets (v3 and v4
 * encode PUBLISH the same way; "r" = retain flag set); "mqtt4p"/"mqtt5p" are templates of a QoS 1/2
 * packet whose first byte and packet id are patched in a copy per delivery.
 */
export class EncodedPublish {
  /**
   * The QoS 1/2 template went out itself, patched in place (the first delivery needs no copy):
   * every later one copies it. Only its first byte and packet id are ever patched, and every
   * delivery writes both, so its other bytes stay what all deliveries share.
   */
  templateLent = false;
  private k0: string | undefined;
  private b0: Buffer | undefined;
  private k1: string | undefined;
  private b1: Buffer | undefined;
  private more: Map<string, Buffer> | undefined;

  get(key: string): Buffer | undefined {
    if (this.k0 === key) return this.b0;
    if (this.k1 === key) return this.b1;
    return this.more?.get(key);
  }

  /**
   * The first entry (the PUBLISH a message arrived in, seeded by seedEncoded) copied out of the read
   * buffer, with the payload as a view into the copy; the other entries are dropped.
   */
  detach(payload: Buffer): Buffer | undefined {
    const b = this.b0;
    this.k1 = this.b1 = this.more = undefined;
    if (
      b === undefined ||
      b.buffer !== payload.buffer ||
      payload.byteOffset < b.byteOffset ||
      payload.byteOffset + payload.length > b.byteOffset + b.length
    ) {
      this.k0 = this.b0 = undefined;
      return undefined;
    }
    const copy = Buffer.from(b);
    this.b0 = copy;
    // The copy has not been sent: the next delivery may send it patched in place.
    this.templateLent = false;
    const at = payload.byteOffset - b.byteOffset;
    return copy.subarray(at, at + payload.length);
  }

  set(key: string, bytes: Buffer): void {
    if (this.k0 === undefined || this.k0 === key) {
      this.k0 = key;
      this.b0 = bytes;
    } else if (this.k1 === undefined || this.k1 === key) {
      this.k1 = key;
      this.b1 = bytes;
    } else {
      if (this.more === undefined) this.more = new Map();
      this.more.set(key, bytes);
    }
  }
}

function cacheOf(message: Message): EncodedCache {
  let cache = message.encoded;
  if (cache === undefined) {
    cache = new EncodedPublish();
    message.encoded = cache;
  }
  return cache;
}

/**
 * Seeds a message's encoded cache with the PUBLISH bytes it arrived in, when they are exactly what
 * a plain delivery sends (same version family, no topic alias, no expiry to count down, no
 * subscription identifier): QoS 0 under the key of its retain flag, QoS 1/2 as the template.
 */
export function seedEncoded(message: Message, raw: Buffer, version: ProtocolVersion): void {
  const v5 = version === 5;
  let key: string;
  if (message.qos === 0)
    key = v5 ? (message.retain ? "mqtt5r" : "mqtt5") : message.retain ? "mqtt4r" : "mqtt4";
  else key = v5 ? "mqtt5p" : "mqtt4p";
  cacheOf(message).set(key, raw);
}

/** Offset of the packet id in a QoS 1/2 PUBLISH: after the fixed header and the topic name. */
function packetIdOffset(buf: Buffer): number {
  let i = 1;
  while (buf[i]! & 0x80) i++;
  i++;
  return i + 2 + ((buf[i]! << 8) | buf[i + 1]!);
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
  // Nothing per subscriber but the packet id and flags: the bytes are shared (QoS 0) or copied
  // from a shared template (QoS 1/2).
  const plain =
    !v5 ||
    (subscriptionId === undefined &&
      c.clientTopicAliasMaximum === 0 &&
      message.properties.expiresAt === undefined);
  if (plain) {
    const key =
      qos > 0 ? (v5 ? "mqtt5p" : "mqtt4p") : v5 ? (retain ? "mqtt5r" : "mqtt5") : retain ? "mqtt4r" : "mqtt4";
    const cache = message.encoded;
    let shared = cache?.get(key);
    let fresh = false;
    if (shared === undefined) {
      shared = encodePublish(
        {
          cmd: "publish",
          topic: message.topic,
          payload: message.payload,
          qos,
          retain,
          dup,
          packetId,
          properties: v5 && !hasNoPerMessageProperties(message) ? propertiesToMqtt(message, 0) : undefined,
        },
        c.version,
      );
      // Never modified once written: later deliveries copy it (QoS 1/2) or send it as it is (QoS 0).
      const c2 = cache ?? cacheOf(message);
      c2.set(key, shared);
      if (qos > 0 && c2 instanceof EncodedPublish) c2.templateLent = true;
      fresh = true;
    }
    if (tooBig(c, shared.length)) return dropAsDelivered(c, packetId);
    if (qos === 0 || fresh) {
      c.write(shared);
      return;
    }
    const byte0 = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
    const at = packetIdOffset(shared);
    if (shared.length <= ARENA_MAX_COPY || !(cache instanceof EncodedPublish) || cache.templateLent) {
      // A patched copy (into the connection's output arena when small).
      c.writePublishCopy(shared, byte0, at, packetId!);
      return;
    }
    // A large one: the first delivery sends the template itself, patched in place.
    cache.templateLent = true;
    shared[0] = byte0;
    shared[at] = packetId! >>> 8;
    shared[at + 1] = packetId! & 0xff;
    c.write(shared);
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
  let props: Properties | undefined = propertiesToMqtt(message, Date.now());
  if (subscriptionId !== undefined) props = { ...props, subscriptionIdentifiers: [subscriptionId] };
  if (c.clientTopicAliasMaximum > 0) props = applyTopicAlias(c, packet, props);
  packet.properties = props;
  const buf = encodePublish(packet, c.version);
  if (tooBig(c, buf.length)) {
    // An alias assigned by this packet never reached the client: forget it (before the window
    // refills), or the next message would use an alias the client does not know (§3.3.2.3.4).
    if (packet.topic !== "" && packet.properties?.topicAlias !== undefined) {
      c.outboundAliases.delete(packet.topic);
    }
    return dropAsDelivered(c, packetId);
  }
  c.write(buf);
}

/** Whether a packet of `n` bytes exceeds the client's Maximum Packet Size (MQTT 5 CONNECT). */
function tooBig(c: MqttConnection, n: number): boolean {
  return c.clientMaxPacketSize > 0 && n > c.clientMaxPacketSize;
}

/** A PUBLISH too big for the client is discarded as if delivered ([MQTT-3.1.2-25]). */
function dropAsDelivered(c: MqttConnection, packetId: number | undefined): void {
  c.router.stats.messagesDropped++;
  if (packetId !== undefined) completeInflight(c, packetId);
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

/** Sends `message` at QoS 0 to this client only, outside any subscription (RPC invocations). */
export function sendDirect(c: MqttConnection, message: Message): void {
  if (c.state !== "connected") return;
  sendPublish(c, message, 0, false, undefined, undefined, false);
}
