import type { ProtocolVersion, PublishPacket } from "./packets.js";
import { blockSize, In, propertiesSize, writeProperties } from "./properties.js";
import { startPacket } from "./writer.js";

/**
 * PUBLISH (§3.3), the hot path: sizes first, then one allocation and straight writes.
 * A packet id is written iff qos > 0 [MQTT-2.2.1-2].
 */
export function encodePublish(p: PublishPacket, version: ProtocolVersion): Buffer {
  const topicBytes = Buffer.byteLength(p.topic, "utf8");
  const propLen = version === 5 ? propertiesSize(p.properties, In.PUBLISH) : -1;
  const remaining = 2 + topicBytes + (p.qos > 0 ? 2 : 0) + blockSize(propLen) + p.payload.length;
  const byte1 = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0);
  const w = startPacket(byte1, remaining);
  w.string(p.topic);
  if (p.qos > 0) w.u16(p.packetId ?? 0);
  if (propLen >= 0) writeProperties(w, p.properties, In.PUBLISH, propLen);
  w.bytes(p.payload);
  return w.buf;
}
