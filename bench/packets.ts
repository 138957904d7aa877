/** MQTT 3.1.1 packets built once with the project's codec; the hot path only copies or patches bytes. */

import { encode, encodePublish, type QoS } from "../src/protocols/mqtt/codec/index.js";

export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const CONNACK = 2;
export const SUBACK = 9;

export function connectPacket(clientId: string): Buffer {
  return encode(
    { cmd: "connect", protocolName: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId },
    4,
  );
}

export function subscribePacket(filter: string, qos: QoS): Buffer {
  return encode(
    {
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [{ topic: filter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    },
    4,
  );
}

export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** A PUBLISH template plus where its variable fields sit, so copies can be patched in place. */
export interface PublishTemplate {
  bytes: Buffer;
  /** Offset of the packet id (QoS > 0), else -1. */
  idAt: number;
  /** Offset of the payload. */
  payloadAt: number;
}

export function publishTemplate(topic: string, payloadSize: number, qos: QoS): PublishTemplate {
  const bytes = encodePublish(
    {
      cmd: "publish",
      topic,
      payload: Buffer.alloc(payloadSize, 0x61),
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { packetId: 1 } : {}),
    },
    4,
  );
  const payloadAt = bytes.length - payloadSize;
  return { bytes, idAt: qos > 0 ? payloadAt - 2 : -1, payloadAt };
}

/** `count` copies of one packet back to back: one write sends them all. */
export function repeat(packet: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(packet.length * count);
  for (let i = 0; i < count; i++) packet.copy(out, i * packet.length);
  return out;
}

/** A 4-byte ack (PUBACK/PUBREC/PUBREL/PUBCOMP, v3.1.1) written at `at`. */
export function writeAck(out: Buffer, at: number, type: number, packetId: number): void {
  out[at] = (type << 4) | (type === PUBREL ? 0x02 : 0);
  out[at + 1] = 2;
  out[at + 2] = packetId >> 8;
  out[at + 3] = packetId & 0xff;
}
