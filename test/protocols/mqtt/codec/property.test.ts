import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodePacket,
  encode,
  MqttCodecError,
  MqttDecoder,
  type Packet,
  type ProtocolVersion,
} from "../../../../src/protocols/mqtt/codec/index.js";
import { canon, packetArb } from "./arbitraries.js";

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

/** Feeds `chunks` to a decoder already at `version` and collects what comes out. */
function feed(chunks: Buffer[], version: ProtocolVersion): Packet[] {
  const d = new MqttDecoder({ maxPacketSize: 1 << 20 });
  d.version = version;
  const out: Packet[] = [];
  for (const c of chunks) d.push(c, (p) => out.push(p));
  assert.equal(d.buffered, 0);
  return out;
}

/** Splits `buf` at the given (unsorted, possibly repeated) cut points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** A CONNECT switches the decoder's version; keep it at `v` so the rest of the stream decodes alike. */
const sameVersion = (v: ProtocolVersion) => (p: Packet) => p.cmd !== "connect" || p.protocolVersion === v;

for (const v of VERSIONS) {
  test(`v${v}: every valid packet round-trips encode -> decodePacket`, () => {
    fc.assert(
      fc.property(packetArb(v), (p) => {
        assert.deepEqual(canon(decodePacket(encode(p, v), v)), canon(p));
      }),
      { numRuns: 1000 },
    );
  });

  test(`v${v}: a stream split at random boundaries yields the same packets`, () => {
    fc.assert(
      fc.property(
        fc.array(packetArb(v).filter(sameVersion(v)), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (packets, cuts) => {
          const stream = Buffer.concat(packets.map((p) => encode(p, v)));
          assert.deepEqual(canon(feed(split(stream, cuts), v)), canon(packets));
        },
      ),
      { numRuns: 300 },
    );
  });

  test(`v${v}: a stream split at every byte boundary yields the same packets`, () => {
    fc.assert(
      fc.property(
        fc.array(packetArb(v).filter(sameVersion(v)), { minLength: 1, maxLength: 3 }),
        (packets) => {
          const stream = Buffer.concat(packets.map((p) => encode(p, v)));
          const want = canon(packets);
          // One byte at a time.
          const bytes: Buffer[] = [];
          for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
          assert.deepEqual(canon(feed(bytes, v)), want);
          // Two chunks, cut at each position.
          for (let i = 0; i <= stream.length; i++) {
            assert.deepEqual(canon(feed([stream.subarray(0, i), stream.subarray(i)], v)), want);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  test(`v${v}: random bytes only ever raise MqttCodecError`, () => {
    // Plain noise, and noise behind a plausible fixed header so the body decoders get exercised.
    const noise = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
    const framed = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 120 }))
      .map(([b1, body]) => Buffer.concat([Buffer.from([b1, body.length]), body]));
    fc.assert(
      fc.property(fc.oneof(noise, framed), fc.array(fc.nat(), { maxLength: 6 }), (buf, cuts) => {
        const d = new MqttDecoder({ maxPacketSize: 4096 });
        d.version = v;
        try {
          for (const c of split(buf, cuts)) d.push(c, () => {});
        } catch (e) {
          assert.ok(e instanceof MqttCodecError, `unexpected ${String(e)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  test(`v${v}: valid packets with corrupted bytes only ever raise MqttCodecError`, () => {
    fc.assert(
      fc.property(packetArb(v), fc.nat(), fc.integer({ min: 0, max: 255 }), (p, at, value) => {
        const buf = Buffer.from(encode(p, v));
        buf[at % buf.length] = value;
        try {
          decodePacket(buf, v);
        } catch (e) {
          assert.ok(e instanceof MqttCodecError, `unexpected ${String(e)}`);
        }
      }),
      { numRuns: 500 },
    );
  });
}
