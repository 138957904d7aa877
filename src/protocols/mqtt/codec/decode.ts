import { decodeConnack, decodeConnect } from "./decode-connect.js";
import { decodeAck, decodePublish } from "./decode-publish.js";
import { decodeSuback, decodeSubscribe, decodeUnsuback, decodeUnsubscribe } from "./decode-subscribe.js";
import { MqttCodecError, malformed, PACKET_TOO_LARGE } from "./errors.js";
import type { AuthPacket, DisconnectPacket, Packet, ProtocolVersion } from "./packets.js";
import { In, readProperties } from "./properties.js";
import { Reader } from "./reader.js";

/** Control packet types (§2.1.2). */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** Fixed header as scanned by scanFixedHeader. Reused, so scanning allocates nothing. */
export interface FixedHeader {
  headerLength: number;
  remainingLength: number;
}

/**
 * Reads the fixed header at `off`. Returns false when more bytes are needed. Throws as soon as the
 * header is known to be bad, before a single byte of the body is buffered: reserved packet types,
 * a Remaining Length longer than 4 bytes, or a packet larger than maxPacketSize (0x95).
 */
export function scanFixedHeader(
  buf: Buffer,
  off: number,
  version: ProtocolVersion,
  maxPacketSize: number,
  out: FixedHeader,
): boolean {
  const end = buf.length;
  if (off >= end) return false;
  const type = buf[off]! >> 4;
  // §2.1.2: type 0 is reserved; 15 (AUTH) exists only in v5.
  if (type === 0 || (type === PacketType.AUTH && version < 5)) {
    throw malformed(`reserved packet type ${type}`);
  }
  let value = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    if (off + i >= end) return false;
    const b = buf[off + i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 1) throw malformed("[MQTT-1.5.5-1] remaining length is not minimally encoded");
      const total = 1 + i + value;
      if (total > maxPacketSize) {
        throw new MqttCodecError(PACKET_TOO_LARGE, `packet of ${total} bytes exceeds ${maxPacketSize}`);
      }
      out.headerLength = 1 + i;
      out.remainingLength = value;
      return true;
    }
    mul *= 128;
  }
  throw malformed("remaining length is longer than 4 bytes");
}

/** [MQTT-2.1.3-1] Reserved fixed-header flags must carry their listed value. */
function checkFlags(type: number, flags: number, version: ProtocolVersion): void {
  if (type === PacketType.PUBLISH) return; // PUBLISH flags are DUP/QoS/RETAIN, checked by decodePublish
  // [MQTT-3.6.1-1] PUBREL, [MQTT-3.8.1-1] SUBSCRIBE, [MQTT-3.10.1-1] UNSUBSCRIBE: 0b0010.
  const expected =
    type === PacketType.PUBREL || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE ? 2 : 0;
  if (flags === expected) return;
  // MQTT 3.1 sent these three as QoS 1 messages and set DUP on a resend: tolerate it there.
  if (version === 3 && expected === 2 && flags === 0b1010) return;
  throw malformed(
    `[MQTT-2.1.3-1] packet type ${type} has reserved flags 0b${flags.toString(2).padStart(4, "0")}`,
  );
}

/**
 * The one reader decodeFrame uses: decoding is synchronous and nothing keeps the reader, so one
 * object serves every packet. It is let go of the buffer after each packet (no chunk kept alive).
 */
const reader = new Reader(Buffer.alloc(0), 0, 0);
const EMPTY = reader.buf;

/** Decodes the packet whose bytes are buf[start, end), its fixed header `headerLength` bytes long. */
export function decodeFrame(
  buf: Buffer,
  start: number,
  headerLength: number,
  end: number,
  version: ProtocolVersion,
): Packet {
  const byte1 = buf[start]!;
  const type = byte1 >> 4;
  const flags = byte1 & 0x0f;
  checkFlags(type, flags, version);
  const r = reader.reset(buf, start + headerLength, end);
  try {
    return decodeBody(r, type, flags, start, version);
  } finally {
    r.buf = EMPTY;
  }
}

function decodeBody(r: Reader, type: number, flags: number, start: number, version: ProtocolVersion): Packet {
  switch (type) {
    case PacketType.PUBLISH:
      return decodePublish(r, flags, version, start);
    case PacketType.PUBACK:
      return decodeAck("puback", r, version);
    case PacketType.PUBREC:
      return decodeAck("pubrec", r, version);
    case PacketType.PUBREL:
      return decodeAck("pubrel", r, version);
    case PacketType.PUBCOMP:
      return decodeAck("pubcomp", r, version);
    case PacketType.CONNECT:
      return decodeConnect(r);
    case PacketType.CONNACK:
      return decodeConnack(r, version);
    case PacketType.SUBSCRIBE:
      return decodeSubscribe(r, version);
    case PacketType.SUBACK:
      return decodeSuback(r, version);
    case PacketType.UNSUBSCRIBE:
      return decodeUnsubscribe(r, version);
    case PacketType.UNSUBACK:
      return decodeUnsuback(r, version);
    case PacketType.PINGREQ:
      r.done("PINGREQ");
      return { cmd: "pingreq" };
    case PacketType.PINGRESP:
      r.done("PINGRESP");
      return { cmd: "pingresp" };
    case PacketType.DISCONNECT:
      return decodeDisconnect(r, version);
    case PacketType.AUTH:
      if (version < 5) throw malformed("AUTH before MQTT 5");
      return decodeAuth(r);
    default:
      throw malformed(`reserved packet type ${type}`);
  }
}

/** DISCONNECT (§3.14). v5: reason code and properties may be omitted (Remaining Length 0 or 1). */
function decodeDisconnect(r: Reader, version: ProtocolVersion): DisconnectPacket {
  if (version < 5) {
    r.done("DISCONNECT");
    return { cmd: "disconnect", reasonCode: undefined, properties: undefined };
  }
  const reasonCode = r.left > 0 ? r.u8("reason code") : 0;
  const properties = r.left > 0 ? readProperties(r, In.DISCONNECT) : undefined;
  r.done("DISCONNECT");
  return { cmd: "disconnect", reasonCode, properties };
}

/** AUTH (§3.15). Remaining Length 0 means reason code 0x00 and no properties. */
function decodeAuth(r: Reader): AuthPacket {
  const reasonCode = r.left > 0 ? r.u8("reason code") : 0;
  const properties = r.left > 0 ? readProperties(r, In.AUTH) : undefined;
  r.done("AUTH");
  return { cmd: "auth", reasonCode, properties };
}

const scratch: FixedHeader = { headerLength: 0, remainingLength: 0 };

/** Decodes exactly one complete packet; `buf` must hold nothing else. */
export function decodePacket(buf: Buffer, version: ProtocolVersion): Packet {
  if (!scanFixedHeader(buf, 0, version, Number.MAX_SAFE_INTEGER, scratch)) {
    throw malformed("incomplete fixed header");
  }
  const total = scratch.headerLength + scratch.remainingLength;
  if (total !== buf.length) {
    throw malformed(`packet announces ${total} bytes but ${buf.length} were given`);
  }
  return decodeFrame(buf, 0, scratch.headerLength, total, version);
}
