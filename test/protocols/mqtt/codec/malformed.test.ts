import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodePacket,
  MqttCodecError,
  type ProtocolVersion,
} from "../../../../src/protocols/mqtt/codec/index.js";
import { connectBody, pkt, str } from "./bytes.js";

const MALFORMED = 0x81;
const PROTOCOL = 0x82;
const VERSION = 0x84;
const TOPIC = 0x90;

interface Case {
  name: string;
  v: ProtocolVersion;
  bytes: Buffer;
  code: number;
}

/** Packets the codec must reject, one per rule, each with the reason code it must report. */
const CASES: Case[] = [
  // Fixed header
  {
    name: "remaining length longer than 4 bytes (§1.5.5)",
    v: 4,
    bytes: Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    code: MALFORMED,
  },
  {
    name: "[MQTT-1.5.5-1] remaining length not minimally encoded",
    v: 4,
    bytes: Buffer.from([0xc0, 0x80, 0x00]),
    code: MALFORMED,
  },
  { name: "§2.1.2 packet type 0 is reserved (v4)", v: 4, bytes: pkt(0x00), code: MALFORMED },
  { name: "§2.1.2 packet type 0 is reserved (v5)", v: 5, bytes: pkt(0x00), code: MALFORMED },
  { name: "§2.1.2 packet type 15 is reserved before v5", v: 4, bytes: pkt(0xf0), code: MALFORMED },
  { name: "§2.1.2 packet type 15 is reserved in v3", v: 3, bytes: pkt(0xf0), code: MALFORMED },
  { name: "[MQTT-2.1.3-1] PUBACK reserved flags set", v: 4, bytes: pkt(0x41, 0, 1), code: MALFORMED },
  { name: "[MQTT-2.1.3-1] PINGREQ reserved flags set", v: 5, bytes: pkt(0xc8), code: MALFORMED },
  {
    name: "[MQTT-2.1.3-1] CONNECT reserved flags set",
    v: 4,
    bytes: pkt(0x12, ...connectBody(4, 0, ...str("c"))),
    code: MALFORMED,
  },
  { name: "[MQTT-3.6.1-1] PUBREL flags must be 0010", v: 4, bytes: pkt(0x60, 0, 1), code: MALFORMED },
  {
    name: "[MQTT-3.8.1-1] SUBSCRIBE flags must be 0010",
    v: 4,
    bytes: pkt(0x80, 0, 1, ...str("a"), 0),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.10.1-1] UNSUBSCRIBE flags must be 0010",
    v: 5,
    bytes: pkt(0xa0, 0, 1, 0, ...str("a")),
    code: MALFORMED,
  },
  // PUBLISH
  { name: "[MQTT-3.3.1-4] PUBLISH QoS 3", v: 4, bytes: pkt(0x36, ...str("t"), 0, 1), code: MALFORMED },
  { name: "[MQTT-3.3.1-2] DUP on QoS 0 PUBLISH (v3)", v: 3, bytes: pkt(0x38, ...str("t")), code: MALFORMED },
  { name: "[MQTT-3.3.1-2] DUP on QoS 0 PUBLISH (v4)", v: 4, bytes: pkt(0x38, ...str("t")), code: MALFORMED },
  {
    name: "[MQTT-3.3.1-2] DUP on QoS 0 PUBLISH (v5)",
    v: 5,
    bytes: pkt(0x38, ...str("t"), 0),
    code: MALFORMED,
  },
  { name: "[MQTT-3.3.2-2] topic name contains +", v: 5, bytes: pkt(0x30, ...str("a/+"), 0), code: TOPIC },
  { name: "[MQTT-3.3.2-2] topic name contains #", v: 4, bytes: pkt(0x30, ...str("a/#")), code: TOPIC },
  { name: "[MQTT-4.7.3-1] empty topic name (v4)", v: 4, bytes: pkt(0x30, ...str("")), code: TOPIC },
  {
    name: "§3.3.2.3.4 empty topic name without topic alias (v5)",
    v: 5,
    bytes: pkt(0x30, ...str(""), 0),
    code: PROTOCOL,
  },
  {
    name: "[MQTT-2.2.1-3] PUBLISH QoS 1 with packet id 0",
    v: 4,
    bytes: pkt(0x32, ...str("t"), 0, 0),
    code: PROTOCOL,
  },
  { name: "PUBLISH truncated inside the packet id", v: 4, bytes: pkt(0x32, ...str("t"), 0), code: MALFORMED },
  // Strings
  {
    name: "[MQTT-1.5.4-1] topic is not valid UTF-8",
    v: 4,
    bytes: pkt(0x30, ...str(Buffer.from([0x61, 0xff]))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-1.5.4-1] topic encodes a surrogate",
    v: 4,
    bytes: pkt(0x30, ...str(Buffer.from([0xed, 0xa0, 0x80]))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-1.5.4-1] overlong encoding",
    v: 4,
    bytes: pkt(0x30, ...str(Buffer.from([0xc0, 0xaf]))),
    code: MALFORMED,
  },
  { name: "[MQTT-1.5.4-2] topic contains U+0000", v: 4, bytes: pkt(0x30, ...str("a\0b")), code: MALFORMED },
  {
    name: "[MQTT-1.5.4-2] non-ASCII client id contains U+0000",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 2, ...str("é\0"))),
    code: MALFORMED,
  },
  { name: "string length runs past the packet", v: 4, bytes: pkt(0x30, 0, 9, 0x61), code: MALFORMED },
  // CONNECT
  {
    name: "[MQTT-3.1.2-1] unknown protocol name",
    v: 4,
    bytes: pkt(0x10, ...str("HTTP"), 4, 2, 0, 60, ...str("c")),
    code: PROTOCOL,
  },
  {
    name: "[MQTT-3.1.2-2] unsupported protocol level",
    v: 4,
    bytes: pkt(0x10, ...str("MQTT"), 6, 2, 0, 60, ...str("c")),
    code: VERSION,
  },
  {
    name: "[MQTT-3.1.2-2] MQTT at level 3",
    v: 4,
    bytes: pkt(0x10, ...str("MQTT"), 3, 2, 0, 60, ...str("c")),
    code: VERSION,
  },
  {
    name: "[MQTT-3.1.2-2] MQIsdp at level 4",
    v: 4,
    bytes: pkt(0x10, ...str("MQIsdp"), 4, 2, 0, 60, ...str("c")),
    code: VERSION,
  },
  {
    name: "[MQTT-3.1.2-3] CONNECT reserved flag bit 0 set",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x03, ...str("c"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-3] CONNECT reserved flag bit 0 set (v5)",
    v: 4,
    bytes: pkt(0x10, ...connectBody(5, 0x01, ...str("c"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-11] will QoS without will flag",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x08, ...str("c"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-13] will retain without will flag",
    v: 4,
    bytes: pkt(0x10, ...connectBody(5, 0x20, ...str("c"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-12] will QoS 3",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x1c, ...str("c"), ...str("w"), ...str("x"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-22] password without user name (v3.1.1)",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x40, ...str("c"), ...str("pw"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.1.2-22] password without user name (v3.1)",
    v: 4,
    bytes: pkt(0x10, ...connectBody(3, 0x40, ...str("c"), ...str("pw"))),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.3.2-2] will topic contains a wildcard",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x04, ...str("c"), ...str("a/#"), ...str("x"))),
    code: TOPIC,
  },
  {
    name: "CONNECT with trailing bytes",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 2, ...str("c"), 0)),
    code: MALFORMED,
  },
  {
    name: "CONNECT user name flag without user name",
    v: 4,
    bytes: pkt(0x10, ...connectBody(4, 0x80, ...str("c"))),
    code: MALFORMED,
  },
  // SUBSCRIBE / UNSUBSCRIBE
  {
    name: "[MQTT-2.2.1-3] SUBSCRIBE packet id 0",
    v: 4,
    bytes: pkt(0x82, 0, 0, ...str("a"), 0),
    code: PROTOCOL,
  },
  {
    name: "[MQTT-2.2.1-3] UNSUBSCRIBE packet id 0",
    v: 4,
    bytes: pkt(0xa2, 0, 0, ...str("a")),
    code: PROTOCOL,
  },
  { name: "[MQTT-3.8.3-3] SUBSCRIBE without subscriptions", v: 4, bytes: pkt(0x82, 0, 1), code: PROTOCOL },
  {
    name: "[MQTT-3.8.3-3] SUBSCRIBE without subscriptions (v5)",
    v: 5,
    bytes: pkt(0x82, 0, 1, 0),
    code: PROTOCOL,
  },
  { name: "[MQTT-3.10.3-2] UNSUBSCRIBE without topics", v: 4, bytes: pkt(0xa2, 0, 1), code: PROTOCOL },
  {
    name: "[MQTT-3.8.3-4] v4 SUBSCRIBE options reserved bits set",
    v: 4,
    bytes: pkt(0x82, 0, 1, ...str("a"), 0x04),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.8.3-4] v4 SUBSCRIBE QoS 3",
    v: 4,
    bytes: pkt(0x82, 0, 1, ...str("a"), 0x03),
    code: MALFORMED,
  },
  {
    name: "[MQTT-3.8.3-5] v5 SUBSCRIBE options reserved bits set",
    v: 5,
    bytes: pkt(0x82, 0, 1, 0, ...str("a"), 0x40),
    code: MALFORMED,
  },
  {
    name: "§3.8.3.1 v5 SUBSCRIBE retain handling 3",
    v: 5,
    bytes: pkt(0x82, 0, 1, 0, ...str("a"), 0x30),
    code: PROTOCOL,
  },
  {
    name: "§3.8.3.1 v5 SUBSCRIBE maximum QoS 3",
    v: 5,
    bytes: pkt(0x82, 0, 1, 0, ...str("a"), 0x03),
    code: PROTOCOL,
  },
  {
    name: "SUBSCRIBE truncated before the options byte",
    v: 4,
    bytes: pkt(0x82, 0, 1, ...str("a")),
    code: MALFORMED,
  },
  // Trailing bytes where nothing may follow
  { name: "PINGREQ with a body", v: 4, bytes: pkt(0xc0, 0), code: MALFORMED },
  { name: "v4 PUBACK longer than a packet id", v: 4, bytes: pkt(0x40, 0, 1, 0), code: MALFORMED },
  { name: "v4 DISCONNECT with a body", v: 4, bytes: pkt(0xe0, 0), code: MALFORMED },
  { name: "v4 UNSUBACK longer than a packet id", v: 4, bytes: pkt(0xb0, 0, 1, 0), code: MALFORMED },
  { name: "[MQTT-3.2.2-1] CONNACK reserved flags set", v: 4, bytes: pkt(0x20, 0x02, 0), code: MALFORMED },
  // v5 properties (§2.2.2)
  {
    name: "§2.2.2.2 property not valid in this packet (topic alias in CONNECT)",
    v: 5,
    bytes: pkt(0x10, ...str("MQTT"), 5, 2, 0, 60, 3, 0x23, 0, 1, ...str("c")),
    code: MALFORMED,
  },
  {
    name: "§2.2.2.2 unknown property identifier",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 2, 0x7f, 0),
    code: MALFORMED,
  },
  {
    name: "§2.2.2.2 duplicated non-repeatable property",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 4, 0x01, 0, 0x01, 1),
    code: PROTOCOL,
  },
  {
    name: "§3.8.2.1.2 subscription identifier twice in SUBSCRIBE",
    v: 5,
    bytes: pkt(0x82, 0, 1, 4, 0x0b, 1, 0x0b, 2, ...str("a"), 0),
    code: PROTOCOL,
  },
  {
    name: "§3.8.2.1.2 subscription identifier 0",
    v: 5,
    bytes: pkt(0x82, 0, 1, 2, 0x0b, 0, ...str("a"), 0),
    code: PROTOCOL,
  },
  {
    name: "[MQTT-1.5.5-1] subscription identifier longer than 4 bytes",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 6, 0x0b, 0x81, 0x81, 0x81, 0x81, 0x01),
    code: MALFORMED,
  },
  {
    name: "§2.2.2.1 property length runs past the packet",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 9, 0x01, 0),
    code: MALFORMED,
  },
  {
    name: "§2.2.2.1 property value runs past the property length",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 2, 0x02, 0, 0, 0, 0),
    code: MALFORMED,
  },
  {
    name: "§3.1.2.11.3 receive maximum 0",
    v: 5,
    bytes: pkt(0x10, ...str("MQTT"), 5, 2, 0, 60, 3, 0x21, 0, 0, ...str("c")),
    code: PROTOCOL,
  },
  {
    name: "§3.1.2.11.6 request problem information other than 0/1",
    v: 5,
    bytes: pkt(0x10, ...str("MQTT"), 5, 2, 0, 60, 2, 0x17, 2, ...str("c")),
    code: PROTOCOL,
  },
  {
    name: "§2.2.2.2 will property not valid in will (session expiry)",
    v: 5,
    bytes: pkt(
      0x10,
      ...str("MQTT"),
      5,
      0x06,
      0,
      60,
      0,
      ...str("c"),
      5,
      0x11,
      0,
      0,
      0,
      1,
      ...str("w"),
      ...str("x"),
    ),
    code: MALFORMED,
  },
  {
    name: "§3.4.2.2 v5 PUBACK property length past the packet",
    v: 5,
    bytes: pkt(0x40, 0, 1, 0x10, 5),
    code: MALFORMED,
  },
  {
    name: "§3.14.2.2 v5 DISCONNECT with trailing bytes after properties",
    v: 5,
    bytes: pkt(0xe0, 0, 0, 0),
    code: MALFORMED,
  },
];

for (const c of CASES) {
  test(`v${c.v} rejects: ${c.name} -> 0x${c.code.toString(16)}`, () => {
    assert.throws(
      () => decodePacket(c.bytes, c.v),
      (e: unknown) => e instanceof MqttCodecError && e.reasonCode === c.code,
    );
  });
}

/** Close to the failing cases above, but valid: the rules must not over-reach. */
const ACCEPTED: Array<{ name: string; v: ProtocolVersion; bytes: Buffer }> = [
  {
    name: "§3.1.2.9 v5 password without user name is allowed",
    v: 5,
    bytes: pkt(0x10, ...connectBody(5, 0x42, ...str("c"), ...str("pw"))),
  },
  { name: "§3.3.2.3.4 v5 empty topic with a topic alias", v: 5, bytes: pkt(0x30, ...str(""), 3, 0x23, 0, 1) },
  // The broker answers it with 0x94 ([MQTT-3.3.2-8]): test/protocols/mqtt/malformed-publish.test.ts.
  {
    name: "§3.3.2.3.4 topic alias 0 is left to the broker",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 3, 0x23, 0, 0),
  },
  {
    name: "§3.3.2.3.8 several subscription identifiers in PUBLISH",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 4, 0x0b, 1, 0x0b, 2),
  },
  {
    name: "§3.3.2.3.7 repeated user properties",
    v: 5,
    bytes: pkt(0x30, ...str("t"), 14, 0x26, ...str("a"), ...str("b"), 0x26, ...str("a"), ...str("c")),
  },
  { name: "MQTT 3.1 tolerates DUP on PUBREL (it was a QoS 1 message then)", v: 3, bytes: pkt(0x6a, 0, 1) },
  { name: "§3.15 AUTH in v5", v: 5, bytes: pkt(0xf0) },
  { name: "§3.1.2.4 clean session v3.1 CONNECT", v: 3, bytes: pkt(0x10, ...connectBody(3, 2, ...str("c"))) },
  { name: "[MQTT-1.5.4-3] BOM in a topic is kept", v: 4, bytes: pkt(0x30, ...str("\ufeffa")) },
];

for (const c of ACCEPTED) {
  test(`v${c.v} accepts: ${c.name}`, () => {
    decodePacket(c.bytes, c.v);
  });
}

test("[MQTT-1.5.4-3] a BOM at the start of a topic is not stripped", () => {
  const p = decodePacket(pkt(0x30, ...str("\ufeffa")), 4);
  assert.equal(p.cmd === "publish" && p.topic, "\ufeffa");
});
