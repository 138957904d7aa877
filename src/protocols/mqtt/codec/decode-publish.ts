import { MqttCodecError, malformed, protocolError, TOPIC_NAME_INVALID } from "./errors.js";
import { type AckPacket, type ProtocolVersion, type PublishPacket, type QoS, RAW } from "./packets.js";
import { In, readProperties } from "./properties.js";
import type { Reader } from "./reader.js";
import { checkTopicName } from "./topic.js";

/** Packet Identifier: non-zero wherever one is present ([MQTT-2.2.1-3] v5, [MQTT-2.3.1-1] v3.1.1). */
export function readPacketId(r: Reader): number {
  const id = r.u16("packet identifier");
  if (id === 0) throw protocolError("[MQTT-2.2.1-3] packet identifier 0");
  return id;
}

/**
 * PUBLISH (§3.3): the hot path. The payload is a view into the input, never a copy; so is the whole
 * packet (RAW), from `frameStart` (the fixed header) when given, for forwarding it unchanged.
 */
export function decodePublish(
  r: Reader,
  flags: number,
  version: ProtocolVersion,
  frameStart = -1,
): PublishPacket {
  const qos = (flags >> 1) & 3;
  if (qos === 3) throw malformed("[MQTT-3.3.1-4] PUBLISH with QoS 3");
  const dup = (flags & 0x08) !== 0;
  if (dup && qos === 0) throw malformed("[MQTT-3.3.1-2] DUP set on a QoS 0 PUBLISH");
  const topic = r.string("topic name");
  checkTopicName(topic, "topic name");
  const packetId = qos > 0 ? readPacketId(r) : undefined;
  const properties = version === 5 ? readProperties(r, In.PUBLISH) : undefined;
  if (topic.length === 0) {
    // v3/v4: [MQTT-4.7.3-1]. v5: an empty topic is how a Topic Alias is used (§3.3.2.3.4), and a
    // Protocol Error without one.
    if (version < 5) throw new MqttCodecError(TOPIC_NAME_INVALID, "[MQTT-4.7.3-1] empty topic name");
    if (properties?.topicAlias === undefined) throw protocolError("empty topic name without a topic alias");
  }
  const raw = frameStart >= 0 ? r.buf.subarray(frameStart, r.end) : undefined;
  return {
    cmd: "publish",
    topic,
    payload: r.rest(),
    qos: qos as QoS,
    retain: (flags & 0x01) !== 0,
    dup,
    packetId,
    properties,
    [RAW]: raw,
  };
}

/**
 * PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4-3.7). v3/v4: exactly a packet id. v5: the reason code and the
 * properties may each be omitted from the end (Remaining Length 2 or 3), meaning 0x00 / none.
 */
export function decodeAck(cmd: AckPacket["cmd"], r: Reader, version: ProtocolVersion): AckPacket {
  const packetId = readPacketId(r);
  let reasonCode: number | undefined;
  let properties: AckPacket["properties"];
  if (version === 5) {
    reasonCode = r.left > 0 ? r.u8("reason code") : 0;
    if (r.left > 0) properties = readProperties(r, In.PUBACK);
  }
  r.done(cmd.toUpperCase());
  return { cmd, packetId, reasonCode, properties };
}
