import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodePacket,
  encode,
  encodePublish,
  isValidUtf8,
  type Packet,
  type ProtocolVersion,
} from "../../../../src/protocols/mqtt/codec/index.js";
import { canon } from "./arbitraries.js";

function roundTrip(p: Packet, v: ProtocolVersion): void {
  assert.deepEqual(canon(decodePacket(encode(p, v), v)), canon(p));
}

const sub = { noLocal: false, retainAsPublished: false, retainHandling: 0 as const };

/** One example of every packet type, in each version's canonical decoded form. */
function examples(v: ProtocolVersion): Packet[] {
  const v5 = v === 5;
  const reason = v5 ? 0x10 : undefined;
  const props = (p: object) => (v5 ? p : undefined);
  const list: Packet[] = [
    {
      cmd: "connect",
      protocolName: v === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: v,
      clean: true,
      keepalive: 30,
      clientId: "dev-1",
      will: {
        topic: "dev/1/state",
        payload: Buffer.from("gone"),
        qos: 1,
        retain: true,
        properties: props({ willDelayInterval: 5, contentType: "text/plain" }),
      },
      username: "ü-user",
      password: Buffer.from([0, 1, 2]),
      properties: props({ sessionExpiryInterval: 3600, receiveMaximum: 10, userProperties: [["a", "b"]] }),
    },
    { cmd: "connack", sessionPresent: true, reasonCode: 0, properties: props({ topicAliasMaximum: 8 }) },
    {
      cmd: "publish",
      topic: "a/b/ç",
      payload: Buffer.from("21.5"),
      qos: 2,
      retain: false,
      dup: true,
      packetId: 7,
      properties: props({ subscriptionIdentifiers: [1, 268_435_455], correlationData: Buffer.from("x") }),
    },
    { cmd: "publish", topic: "t", payload: Buffer.alloc(0), qos: 0, retain: true, dup: false },
    { cmd: "puback", packetId: 1, reasonCode: reason, properties: props({ reasonString: "ok" }) },
    { cmd: "pubrec", packetId: 2, reasonCode: reason },
    { cmd: "pubrel", packetId: 3, reasonCode: v5 ? 0 : undefined },
    {
      cmd: "pubcomp",
      packetId: 0xffff,
      reasonCode: v5 ? 0 : undefined,
      properties: props({ reasonString: "" }),
    },
    {
      cmd: "subscribe",
      packetId: 4,
      subscriptions: [
        { topic: "a/+/c", qos: 1, ...sub },
        v5
          ? { topic: "$share/g/#", qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }
          : { topic: "$share/g/#", qos: 2, ...sub },
      ],
      properties: props({ subscriptionIdentifiers: [42] }),
    },
    { cmd: "suback", packetId: 4, reasonCodes: [1, 0x80, 0], properties: props({ reasonString: "x" }) },
    {
      cmd: "unsubscribe",
      packetId: 5,
      topics: ["a/+/c", "#"],
      properties: props({ userProperties: [["k", "v"]] }),
    },
    { cmd: "unsuback", packetId: 5, reasonCodes: v5 ? [0, 0x11] : undefined },
    { cmd: "pingreq" },
    { cmd: "pingresp" },
    { cmd: "disconnect", reasonCode: v5 ? 0x04 : undefined, properties: props({ sessionExpiryInterval: 0 }) },
  ];
  if (v5) list.push({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1" } });
  return list;
}

for (const v of [3, 4, 5] as const) {
  for (const p of examples(v)) {
    test(`v${v}: ${p.cmd} round-trips`, () => roundTrip(p, v));
  }
}

test("v3: CONNECT uses protocol name MQIsdp at level 3 [MQTT-3.1.2-1]", () => {
  const [connect] = examples(3);
  const buf = encode(connect!, 3);
  assert.equal(buf.subarray(4, 10).toString(), "MQIsdp");
  assert.equal(buf[10], 3);
});

test("v4 golden bytes: PUBLISH QoS 1 and SUBSCRIBE", () => {
  const pub = encodePublish(
    {
      cmd: "publish",
      topic: "a/b",
      payload: Buffer.from("hi"),
      qos: 1,
      retain: true,
      dup: false,
      packetId: 10,
    },
    4,
  );
  assert.deepEqual([...pub], [0x33, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 10, 0x68, 0x69]);
  const s = encode({ cmd: "subscribe", packetId: 1, subscriptions: [{ topic: "x", qos: 2, ...sub }] }, 4);
  assert.deepEqual([...s], [0x82, 6, 0, 1, 0, 1, 0x78, 2]);
});

test("v5 acks and DISCONNECT use the shortest form (§3.4.2.1, §3.14.2.1)", () => {
  assert.deepEqual([...encode({ cmd: "puback", packetId: 1 }, 5)], [0x40, 2, 0, 1]);
  assert.deepEqual([...encode({ cmd: "puback", packetId: 1, reasonCode: 0x10 }, 5)], [0x40, 3, 0, 1, 0x10]);
  assert.deepEqual([...encode({ cmd: "disconnect" }, 5)], [0xe0, 0]);
  assert.deepEqual([...encode({ cmd: "disconnect", reasonCode: 0x8e }, 5)], [0xe0, 1, 0x8e]);
  // A v5 PUBLISH always carries a property length, 0 when there are none.
  const pub = encodePublish(
    { cmd: "publish", topic: "t", payload: Buffer.alloc(0), qos: 0, retain: false, dup: false },
    5,
  );
  assert.deepEqual([...pub], [0x30, 4, 0, 1, 0x74, 0]);
});

test("v3/v4 encoders drop properties and map SUBACK failures to 0x80", () => {
  const s = encode(
    { cmd: "suback", packetId: 1, reasonCodes: [0x87, 2], properties: { reasonString: "no" } },
    4,
  );
  assert.deepEqual([...s], [0x90, 4, 0, 1, 0x80, 2]);
  assert.deepEqual([...encode({ cmd: "puback", packetId: 9, reasonCode: 0x80 }, 4)], [0x40, 2, 0, 9]);
});

test("properties not valid for the packet type are not encoded (§2.2.2.2)", () => {
  const buf = encode({ cmd: "puback", packetId: 1, properties: { topicAlias: 3 } }, 5);
  assert.deepEqual([...buf], [0x40, 2, 0, 1]);
});

test("decoded PUBLISH payload is a view of the input, not a copy", () => {
  const buf = encodePublish(
    { cmd: "publish", topic: "t", payload: Buffer.from("abc"), qos: 0, retain: false, dup: false },
    4,
  );
  const p = decodePacket(buf, 4);
  assert.equal(p.cmd, "publish");
  if (p.cmd === "publish") assert.equal(p.payload.buffer, buf.buffer);
});

test("isValidUtf8 accepts UTF-8 and rejects overlongs and surrogates [MQTT-1.5.4-1]", () => {
  assert.equal(isValidUtf8(Buffer.from("héllo €𝄞")), true);
  assert.equal(isValidUtf8(Buffer.from([0xc0, 0xaf])), false);
  assert.equal(isValidUtf8(Buffer.from([0xed, 0xa0, 0x80])), false);
});
