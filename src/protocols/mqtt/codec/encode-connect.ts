import type { ConnackPacket, ConnectPacket, ProtocolVersion } from "./packets.js";
import { blockSize, In, propertiesSize, writeProperties } from "./properties.js";
import { startPacket, stringSize } from "./writer.js";

/** CONNECT (§3.1). The packet's own protocolVersion decides the layout, as when decoding. */
export function encodeConnect(p: ConnectPacket): Buffer {
  const v = p.protocolVersion;
  const name = v === 3 ? "MQIsdp" : "MQTT";
  const propLen = v === 5 ? propertiesSize(p.properties, In.CONNECT) : -1;
  const will = p.will;
  const willPropLen = will !== undefined && v === 5 ? propertiesSize(will.properties, In.WILL) : -1;
  let remaining = stringSize(name) + 4 + blockSize(propLen) + stringSize(p.clientId);
  if (will !== undefined) {
    remaining += blockSize(willPropLen) + stringSize(will.topic) + 2 + will.payload.length;
  }
  if (p.username !== undefined) remaining += stringSize(p.username);
  if (p.password !== undefined) remaining += 2 + p.password.length;
  let flags = p.clean ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;

  const w = startPacket(0x10, remaining);
  w.string(name);
  w.u8(v);
  w.u8(flags);
  w.u16(p.keepalive);
  if (propLen >= 0) writeProperties(w, p.properties, In.CONNECT, propLen);
  w.string(p.clientId);
  if (will !== undefined) {
    if (willPropLen >= 0) writeProperties(w, will.properties, In.WILL, willPropLen);
    w.string(will.topic);
    w.binary(will.payload);
  }
  if (p.username !== undefined) w.string(p.username);
  if (p.password !== undefined) w.binary(p.password);
  return w.buf;
}

/** CONNACK (§3.2). v3/v4 carry a return code 0..5, v5 a reason code and properties. */
export function encodeConnack(p: ConnackPacket, version: ProtocolVersion): Buffer {
  const propLen = version === 5 ? propertiesSize(p.properties, In.CONNACK) : -1;
  const w = startPacket(0x20, 2 + blockSize(propLen));
  w.u8(p.sessionPresent ? 1 : 0);
  w.u8(p.reasonCode);
  if (propLen >= 0) writeProperties(w, p.properties, In.CONNACK, propLen);
  return w.buf;
}
