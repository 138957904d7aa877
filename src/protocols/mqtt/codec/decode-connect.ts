import {
  MqttCodecError,
  malformed,
  protocolError,
  TOPIC_NAME_INVALID,
  UNSUPPORTED_VERSION,
} from "./errors.js";
import type { ConnackPacket, ConnectPacket, ProtocolVersion, QoS, Will } from "./packets.js";
import { In, readProperties } from "./properties.js";
import type { Reader } from "./reader.js";
import { checkTopicName } from "./topic.js";

/** CONNECT (§3.1). Its own protocol level decides the version; the decoder's current one is ignored. */
export function decodeConnect(r: Reader): ConnectPacket {
  const protocolName = r.string("protocol name");
  const level = r.u8("protocol level");
  // [MQTT-3.1.2-1] Not MQTT at all: close without CONNACK.
  if (protocolName !== "MQTT" && protocolName !== "MQIsdp") {
    throw protocolError(`[MQTT-3.1.2-1] unknown protocol name ${JSON.stringify(protocolName)}`);
  }
  // [MQTT-3.1.2-2] A known protocol at a level we do not speak: CONNACK 0x84 (v5) / 0x01 (v3/v4).
  if ((level !== 4 && level !== 5 && level !== 3) || (level === 3) !== (protocolName === "MQIsdp")) {
    throw new MqttCodecError(
      UNSUPPORTED_VERSION,
      `[MQTT-3.1.2-2] unsupported ${protocolName} level ${level}`,
    );
  }
  const version = level as ProtocolVersion;
  try {
    return decodeConnectBody(r, protocolName, version);
  } catch (err) {
    if (err instanceof MqttCodecError) err.connectVersion = version;
    throw err;
  }
}

/** CONNECT after the protocol level: flags, keep alive, properties, payload. */
function decodeConnectBody(r: Reader, protocolName: string, version: ProtocolVersion): ConnectPacket {
  const flags = r.u8("connect flags");
  // [MQTT-3.1.2-3] The reserved flag must be 0.
  if ((flags & 0x01) !== 0) throw malformed("[MQTT-3.1.2-3] CONNECT reserved flag is set");
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (!willFlag && (willQos !== 0 || willRetain)) {
    // v5 [MQTT-3.1.2-11] [MQTT-3.1.2-13]; v3.1.1 [MQTT-3.1.2-13] [MQTT-3.1.2-15].
    throw malformed("[MQTT-3.1.2-11] will QoS / will retain set without the will flag");
  }
  // v5 [MQTT-3.1.2-12]; v3.1.1 [MQTT-3.1.2-14].
  if (willQos === 3) throw malformed("[MQTT-3.1.2-12] will QoS 3");
  // v3.1.1 [MQTT-3.1.2-22]; v5 allows a password without a user name (§3.1.2.9).
  if (hasPassword && !hasUsername && version < 5) {
    throw malformed("[MQTT-3.1.2-22] password flag set without user name flag");
  }
  const keepalive = r.u16("keep alive");
  const properties = version === 5 ? readProperties(r, In.CONNECT) : undefined;
  const clientId = r.string("client identifier"); // [MQTT-3.1.3-4]
  let will: Will | undefined;
  if (willFlag) {
    const willProps = version === 5 ? readProperties(r, In.WILL) : undefined;
    const topic = r.string("will topic");
    checkTopicName(topic, "will topic");
    // [MQTT-4.7.3-1] Topic names are at least one character long.
    if (topic.length === 0) throw new MqttCodecError(TOPIC_NAME_INVALID, "[MQTT-4.7.3-1] empty will topic");
    const payload = r.binary("will payload");
    will = { topic, payload, qos: willQos as QoS, retain: willRetain, properties: willProps };
  }
  const username = hasUsername ? r.string("user name") : undefined;
  const password = hasPassword ? r.binary("password") : undefined;
  r.done("CONNECT");
  return {
    cmd: "connect",
    protocolName,
    protocolVersion: version,
    clean: (flags & 0x02) !== 0,
    keepalive,
    clientId,
    will,
    username,
    password,
    properties,
  };
}

/** CONNACK (§3.2). */
export function decodeConnack(r: Reader, version: ProtocolVersion): ConnackPacket {
  const ackFlags = r.u8("connect acknowledge flags");
  // [MQTT-3.2.2-1] (v3.1.1) / §3.2.2.1 (v5): bits 7-1 are reserved.
  if ((ackFlags & 0xfe) !== 0) throw malformed("CONNACK reserved flags are set");
  const reasonCode = r.u8("connect reason code");
  const properties = version === 5 ? readProperties(r, In.CONNACK) : undefined;
  r.done("CONNACK");
  return { cmd: "connack", sessionPresent: (ackFlags & 1) !== 0, reasonCode, properties };
}
