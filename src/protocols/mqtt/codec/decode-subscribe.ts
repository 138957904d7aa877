import { readPacketId } from "./decode-publish.js";
import { malformed, protocolError } from "./errors.js";
import type {
  ProtocolVersion,
  QoS,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from "./packets.js";
import { In, readProperties } from "./properties.js";
import type { Reader } from "./reader.js";

/** SUBSCRIBE (§3.8). Topic filter syntax is left to the broker: v5 answers bad filters per entry (0x8F). */
export function decodeSubscribe(r: Reader, version: ProtocolVersion): SubscribePacket {
  const packetId = readPacketId(r);
  const properties = version === 5 ? readProperties(r, In.SUBSCRIBE) : undefined;
  const subscriptions: Subscription[] = [];
  while (r.left > 0) {
    const topic = r.string("topic filter");
    subscriptions.push(readOptions(r.u8("subscription options"), topic, version));
  }
  // [MQTT-3.8.3-3] At least one topic filter / options pair.
  if (subscriptions.length === 0) throw protocolError("[MQTT-3.8.3-3] SUBSCRIBE without subscriptions");
  return { cmd: "subscribe", packetId, subscriptions, properties };
}

function readOptions(opts: number, topic: string, version: ProtocolVersion): Subscription {
  const qos = opts & 0x03;
  if (version < 5) {
    // v3.1.1 [MQTT-3.8.3-4]: reserved bits 7-2 non-zero, or QoS 3, is malformed.
    if ((opts & 0xfc) !== 0) throw malformed("[MQTT-3.8.3-4] SUBSCRIBE options reserved bits are set");
    if (qos === 3) throw malformed("[MQTT-3.8.3-4] SUBSCRIBE requests QoS 3");
    return { topic, qos: qos as QoS, noLocal: false, retainAsPublished: false, retainHandling: 0 };
  }
  // v5 [MQTT-3.8.3-5]: reserved bits 7-6 must be 0.
  if ((opts & 0xc0) !== 0) throw malformed("[MQTT-3.8.3-5] SUBSCRIBE options reserved bits are set");
  // v5 §3.8.3.1 calls both of these a Protocol Error (not Malformed Packet).
  if (qos === 3) throw protocolError("§3.8.3.1 SUBSCRIBE maximum QoS 3");
  const retainHandling = (opts >> 4) & 0x03;
  if (retainHandling === 3) throw protocolError("§3.8.3.1 SUBSCRIBE retain handling 3");
  return {
    topic,
    qos: qos as QoS,
    noLocal: (opts & 0x04) !== 0,
    retainAsPublished: (opts & 0x08) !== 0,
    retainHandling: retainHandling as 0 | 1 | 2,
  };
}

/** SUBACK (§3.9). v3/v4 return codes are 0x00-0x02 or 0x80 ([MQTT-3.9.3-2] in v3.1.1). */
export function decodeSuback(r: Reader, version: ProtocolVersion): SubackPacket {
  const packetId = readPacketId(r);
  const properties = version === 5 ? readProperties(r, In.SUBACK) : undefined;
  const reasonCodes = Array.from(r.rest());
  if (reasonCodes.length === 0) throw protocolError("SUBACK without reason codes");
  if (version < 5) {
    for (const c of reasonCodes) {
      if (c > 2 && c !== 0x80) throw malformed(`SUBACK return code 0x${c.toString(16)}`);
    }
  }
  return { cmd: "suback", packetId, reasonCodes, properties };
}

/** UNSUBSCRIBE (§3.10). */
export function decodeUnsubscribe(r: Reader, version: ProtocolVersion): UnsubscribePacket {
  const packetId = readPacketId(r);
  const properties = version === 5 ? readProperties(r, In.UNSUBSCRIBE) : undefined;
  const topics: string[] = [];
  while (r.left > 0) topics.push(r.string("topic filter"));
  // [MQTT-3.10.3-2] At least one topic filter.
  if (topics.length === 0) throw protocolError("[MQTT-3.10.3-2] UNSUBSCRIBE without topic filters");
  return { cmd: "unsubscribe", packetId, topics, properties };
}

/** UNSUBACK (§3.11). v3/v4: only the packet id; v5: properties and one reason code per filter. */
export function decodeUnsuback(r: Reader, version: ProtocolVersion): UnsubackPacket {
  const packetId = readPacketId(r);
  if (version < 5) {
    r.done("UNSUBACK");
    return { cmd: "unsuback", packetId, reasonCodes: undefined, properties: undefined };
  }
  const properties = readProperties(r, In.UNSUBACK);
  const reasonCodes = Array.from(r.rest());
  return { cmd: "unsuback", packetId, reasonCodes, properties };
}
