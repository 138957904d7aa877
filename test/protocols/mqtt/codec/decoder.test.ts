import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encode,
  MqttCodecError,
  MqttDecoder,
  type Packet,
  type PublishPacket,
} from "../../../../src/protocols/mqtt/codec/index.js";

const isCode = (code: number) => (e: unknown) => e instanceof MqttCodecError && e.reasonCode === code;

function collect(d: MqttDecoder, ...chunks: Buffer[]): Packet[] {
  const out: Packet[] = [];
  for (const c of chunks) d.push(c, (p) => out.push(p));
  return out;
}

const publish = (topic: string, payload: string, extra: Partial<PublishPacket> = {}): PublishPacket => ({
  cmd: "publish",
  topic,
  payload: Buffer.from(payload),
  qos: 0,
  retain: false,
  dup: false,
  ...extra,
});

test("maxPacketSize: a header announcing a huge packet fails with 0x95 before any body is buffered", () => {
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  assert.throws(() => d.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), () => {}), isCode(0x95));
  assert.equal(d.buffered, 0);
});

test("maxPacketSize: checked when the Remaining Length arrives split over chunks", () => {
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  d.push(Buffer.from([0x30, 0x80]), () => {});
  assert.throws(() => d.push(Buffer.from([0x08]), () => {}), isCode(0x95)); // 1 + 2 + 1024 > 1024
});

test("maxPacketSize counts the whole packet, fixed header included", () => {
  const p = encode(publish("t", "x".repeat(100)), 4);
  assert.equal(collect(new MqttDecoder({ maxPacketSize: p.length }), p).length, 1);
  assert.throws(() => collect(new MqttDecoder({ maxPacketSize: p.length - 1 }), p), isCode(0x95));
});

test("a Remaining Length with a fifth byte is malformed even when split over chunks", () => {
  const d = new MqttDecoder({ maxPacketSize: 1 << 30 });
  d.push(Buffer.from([0x30, 0xff, 0xff]), () => {});
  assert.throws(() => d.push(Buffer.from([0xff, 0xff, 0x01]), () => {}), isCode(0x81));
});

test("many packets in one chunk decode in order, payloads are views of that chunk", () => {
  const chunk = Buffer.concat([
    encode(publish("a", "1"), 4),
    encode({ cmd: "pingreq" }, 4),
    encode(publish("b", "2"), 4),
  ]);
  const out = collect(new MqttDecoder({ maxPacketSize: 1024 }), chunk);
  assert.deepEqual(
    out.map((p) => p.cmd),
    ["publish", "pingreq", "publish"],
  );
  const last = out[2] as PublishPacket;
  assert.equal(last.payload.toString(), "2");
  assert.equal(last.payload.buffer, chunk.buffer); // no copy
});

test("a packet straddling chunks is assembled once, and what follows it still decodes", () => {
  const a = encode(publish("a/b", "x".repeat(300)), 4);
  const b = encode(publish("c", "y"), 4);
  const d = new MqttDecoder({ maxPacketSize: 4096 });
  const out = collect(
    d,
    a.subarray(0, 1),
    a.subarray(1, 2),
    a.subarray(2, 200),
    Buffer.concat([a.subarray(200), b]),
  );
  assert.equal(out.length, 2);
  assert.equal((out[0] as PublishPacket).payload.length, 300);
  assert.equal((out[1] as PublishPacket).topic, "c");
  assert.equal(d.buffered, 0);
});

test("decoding CONNECT switches the version for the rest of the same chunk", () => {
  const connect = encode(
    { cmd: "connect", protocolName: "MQTT", protocolVersion: 5, clean: true, keepalive: 10, clientId: "c" },
    5,
  );
  const pub = encode(publish("t", "v", { properties: { contentType: "text/plain" } }), 5);
  const auth = encode({ cmd: "auth", reasonCode: 0x18 }, 5);
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  assert.equal(d.version, 4);
  const out = collect(d, Buffer.concat([connect, pub, auth]));
  assert.equal(d.version, 5);
  assert.deepEqual(
    out.map((p) => p.cmd),
    ["connect", "publish", "auth"],
  );
  assert.equal((out[1] as PublishPacket).properties?.contentType, "text/plain");
});

test("a v3.1 CONNECT sets version 3", () => {
  const connect = encode(
    { cmd: "connect", protocolName: "MQIsdp", protocolVersion: 3, clean: true, keepalive: 10, clientId: "c" },
    3,
  );
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  collect(d, connect);
  assert.equal(d.version, 3);
});

test("the version set by the connection between pushes is used for the next packets", () => {
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  d.version = 5;
  const out = collect(d, encode({ cmd: "disconnect", reasonCode: 0x8e }, 5));
  assert.deepEqual(out, [{ cmd: "disconnect", reasonCode: 0x8e, properties: undefined }]);
});

test("an error inside a later packet of a chunk still delivers the earlier ones first", () => {
  const good = encode({ cmd: "pingreq" }, 4);
  const out: Packet[] = [];
  const d = new MqttDecoder({ maxPacketSize: 1024 });
  assert.throws(
    () => d.push(Buffer.concat([good, Buffer.from([0x00, 0x00])]), (p) => out.push(p)),
    isCode(0x81),
  );
  assert.equal(out.length, 1);
});
