import { encodeConnack, encodeConnect } from "./encode-connect.js";
import { encodePublish } from "./encode-publish.js";
import { MqttCodecError } from "./errors.js";
import type {
  AckPacket,
  AuthPacket,
  DisconnectPacket,
  Packet,
  Properties,
  ProtocolVersion,
  SubackPacket,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
} from "./packets.js";
import { blockSize, In, propertiesSize, writeProperties } from "./properties.js";
import { startPacket, stringSize } from "./writer.js";

const ACK_BYTE1 = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
const PINGREQ = Buffer.from([0xc0, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

/**
 * Encodes any packet for a peer speaking `version` (CONNECT uses its own protocolVersion). Each packet
 * is one allocation: sizes are computed first. For v3/v4, properties and v5 reason codes are ignored.
 */
export function encode(packet: Packet, version: ProtocolVersion): Buffer {
  switch (packet.cmd) {
    case "publish":
      return encodePublish(packet, version);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(packet, version);
    case "connect":
      return encodeConnect(packet);
    case "connack":
      return encodeConnack(packet, version);
    case "subscribe":
      return encodeSubscribe(packet, version);
    case "suback":
      return encodeSuback(packet, version);
    case "unsubscribe":
      return encodeUnsubscribe(packet, version);
    case "unsuback":
      return encodeUnsuback(packet, version);
    case "pingreq":
      return Buffer.from(PINGREQ); // a copy: callers may own and mutate what they get
    case "pingresp":
      return Buffer.from(PINGRESP);
    case "disconnect":
      return encodeReasonOnly(0xe0, packet, version, In.DISCONNECT);
    case "auth":
      if (version < 5) throw new MqttCodecError(0x82, "AUTH exists only in MQTT 5");
      return encodeReasonOnly(0xf0, packet, version, In.AUTH);
  }
}

/**
 * Writes the v5 "reason code, then properties" tail in its shortest form: both omitted when the reason
 * is 0x00 with no properties, properties omitted when there are none (§3.4.2.1, §3.14.2.1, §3.15.2.1).
 * Returns the tail length: 0 (nothing), 1 (reason code only) or more (reason code and properties).
 */
function tailSize(reasonCode: number | undefined, propLen: number): number {
  if (propLen > 0) return 1 + blockSize(propLen);
  return (reasonCode ?? 0) !== 0 ? 1 : 0;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4-3.7). */
function encodeAck(p: AckPacket, version: ProtocolVersion): Buffer {
  const propLen = version === 5 ? propertiesSize(p.properties, In.PUBACK) : 0;
  const tail = version === 5 ? tailSize(p.reasonCode, propLen) : 0;
  const w = startPacket(ACK_BYTE1[p.cmd], 2 + tail);
  w.u16(p.packetId);
  if (tail > 0) w.u8(p.reasonCode ?? 0);
  if (tail > 1) writeProperties(w, p.properties, In.PUBACK, propLen);
  return w.buf;
}

/** DISCONNECT (§3.14) and AUTH (§3.15): nothing but an optional reason code and properties. */
function encodeReasonOnly(
  byte1: number,
  p: DisconnectPacket | AuthPacket,
  version: ProtocolVersion,
  where: number,
): Buffer {
  const propLen = version === 5 ? propertiesSize(p.properties, where) : 0;
  const tail = version === 5 ? tailSize(p.reasonCode, propLen) : 0;
  const w = startPacket(byte1, tail);
  if (tail > 0) w.u8(p.reasonCode ?? 0);
  if (tail > 1) writeProperties(w, p.properties, where, propLen);
  return w.buf;
}

function v5Props(version: ProtocolVersion, p: Properties | undefined, where: number): number {
  return version === 5 ? propertiesSize(p, where) : -1;
}

/** SUBSCRIBE (§3.8); v3/v4 subscription options are just the QoS. */
function encodeSubscribe(p: SubscribePacket, version: ProtocolVersion): Buffer {
  const propLen = v5Props(version, p.properties, In.SUBSCRIBE);
  let remaining = 2 + blockSize(propLen);
  for (const s of p.subscriptions) remaining += stringSize(s.topic) + 1;
  const w = startPacket(0x82, remaining);
  w.u16(p.packetId);
  if (propLen >= 0) writeProperties(w, p.properties, In.SUBSCRIBE, propLen);
  for (const s of p.subscriptions) {
    w.string(s.topic);
    let opts = s.qos;
    if (version === 5) {
      opts |= (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (s.retainHandling << 4);
    }
    w.u8(opts);
  }
  return w.buf;
}

/** SUBACK (§3.9). v3/v4 know only granted QoS 0-2 and failure 0x80. */
function encodeSuback(p: SubackPacket, version: ProtocolVersion): Buffer {
  const propLen = v5Props(version, p.properties, In.SUBACK);
  const w = startPacket(0x90, 2 + blockSize(propLen) + p.reasonCodes.length);
  w.u16(p.packetId);
  if (propLen >= 0) writeProperties(w, p.properties, In.SUBACK, propLen);
  for (const c of p.reasonCodes) w.u8(version === 5 ? c : Math.min(c, 0x80)); // any failure becomes 0x80
  return w.buf;
}

/** UNSUBSCRIBE (§3.10). */
function encodeUnsubscribe(p: UnsubscribePacket, version: ProtocolVersion): Buffer {
  const propLen = v5Props(version, p.properties, In.UNSUBSCRIBE);
  let remaining = 2 + blockSize(propLen);
  for (const t of p.topics) remaining += stringSize(t);
  const w = startPacket(0xa2, remaining);
  w.u16(p.packetId);
  if (propLen >= 0) writeProperties(w, p.properties, In.UNSUBSCRIBE, propLen);
  for (const t of p.topics) w.string(t);
  return w.buf;
}

/** UNSUBACK (§3.11). v3/v4: the packet id only. */
function encodeUnsuback(p: UnsubackPacket, version: ProtocolVersion): Buffer {
  const propLen = v5Props(version, p.properties, In.UNSUBACK);
  const codes = version === 5 ? (p.reasonCodes ?? []) : [];
  const w = startPacket(0xb0, 2 + blockSize(propLen) + codes.length);
  w.u16(p.packetId);
  if (propLen >= 0) writeProperties(w, p.properties, In.UNSUBACK, propLen);
  for (const c of codes) w.u8(c);
  return w.buf;
}
