/** CoAP codec (RFC 7252 §3): round trips with fast-check, every truncation, malformed headers and options. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeBlock, encodeBlock } from "../../../../src/protocols/coap/codec/block.js";
import { decodeMessage } from "../../../../src/protocols/coap/codec/decode.js";
import { encodeEmpty, encodeMessage, sortOptions } from "../../../../src/protocols/coap/codec/encode.js";
import { type CoapOption, readUint, uintBytes } from "../../../../src/protocols/coap/codec/message.js";

const optionArb = fc.record({
  number: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 65535 })),
  value: fc
    .oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ minLength: 13, maxLength: 300 }))
    .map((a) => Buffer.from(a)),
});

const messageArb = fc.record({
  type: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
  code: fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: 64, max: 191 })),
  mid: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  options: fc.array(optionArb, { maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
});

test("RFC 7252 §3: encode then decode gives the same message (property)", () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const options = sortOptions([...m.options]);
      const bytes = encodeMessage(m.type, m.code, m.mid, m.token, options, m.payload);
      const r = decodeMessage(bytes);
      assert.ok(r.ok, r.ok ? "" : r.error);
      assert.equal(r.message.type, m.type);
      assert.equal(r.message.code, m.code);
      assert.equal(r.message.mid, m.mid);
      assert.deepEqual(r.message.token, m.token);
      assert.deepEqual(
        r.message.options.map((o) => [o.number, o.value.toString("hex")]),
        options.map((o) => [o.number, o.value.toString("hex")]),
      );
      assert.deepEqual(r.message.payload, m.payload);
    }),
    { numRuns: 500 },
  );
});

test("every truncation of a valid message decodes or fails cleanly, never throws", () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const bytes = encodeMessage(m.type, m.code, m.mid, m.token, sortOptions([...m.options]), m.payload);
      for (let i = 0; i <= bytes.length; i++) decodeMessage(bytes.subarray(0, i));
    }),
    { numRuns: 200 },
  );
});

test("random bytes never make the decoder throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
      decodeMessage(Buffer.from(a));
    }),
    { numRuns: 2000 },
  );
});

test("option deltas and lengths use the 13 and 14 extended forms at their boundaries", () => {
  for (const n of [0, 12, 13, 268, 269, 270, 65535]) {
    for (const len of [0, 12, 13, 268, 269, 400]) {
      const o: CoapOption = { number: n, value: Buffer.alloc(len, 7) };
      const r = decodeMessage(encodeMessage(0, 1, 1, Buffer.alloc(0), [o]));
      assert.ok(r.ok);
      assert.equal(r.message.options[0]!.number, n);
      assert.equal(r.message.options[0]!.value.length, len);
    }
  }
});

test("RFC 7252 §3: a version other than 1 is ignored (no header reported, so no reset)", () => {
  const b = encodeEmpty(0, 5);
  b[0] = (b[0]! & 0x3f) | 0x80; // version 2
  const r = decodeMessage(b);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.header, undefined);
});

test("RFC 7252 §3: shorter than 4 bytes is ignored", () => {
  const r = decodeMessage(Buffer.from([0x40, 1, 0]));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.header, undefined);
});

for (const tkl of [9, 10, 15]) {
  test(`RFC 7252 §3: token length ${tkl} is a message format error with the header known`, () => {
    const b = Buffer.concat([Buffer.from([0x40 | tkl, 1, 0x12, 0x34]), Buffer.alloc(15)]);
    const r = decodeMessage(b);
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.header, { type: 0, mid: 0x1234 });
  });
}

const formatErrors: Array<[string, number[]]> = [
  ["payload marker with no payload", [0x40, 1, 0, 1, 0xff]],
  ["option delta 15 without the payload marker byte", [0x40, 1, 0, 1, 0xf1, 0]],
  ["option length 15", [0x40, 1, 0, 1, 0xbf, 0]],
  ["truncated option value", [0x40, 1, 0, 1, 0xb5, 0x61, 0x62]],
  ["truncated extended delta (13)", [0x40, 1, 0, 1, 0xd0]],
  ["truncated extended delta (14)", [0x40, 1, 0, 1, 0xe0, 0x01]],
  ["truncated extended length (14)", [0x40, 1, 0, 1, 0x1e, 0x00]],
  ["truncated token", [0x44, 1, 0, 1, 0xaa]],
  ["empty message with a token", [0x41, 0, 0, 1, 0xaa]],
  ["empty message with a payload", [0x40, 0, 0, 1, 0xff, 0x01]],
  ["reserved code class 1", [0x40, 0x20, 0, 1]],
  ["reserved code class 7", [0x40, 0xe0, 0, 1]],
  ["option number over 65535", [0x40, 1, 0, 1, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff]],
];
for (const [name, bytes] of formatErrors) {
  test(`RFC 7252 §3: ${name} is a message format error`, () => {
    const r = decodeMessage(Buffer.from(bytes));
    assert.equal(r.ok, false, name);
    assert.ok(!r.ok && r.header !== undefined);
  });
}

test("uint option values are minimal big-endian and read back", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
      const b = uintBytes(v);
      assert.equal(readUint(b), v);
      if (b.length > 0) assert.notEqual(b[0], 0);
    }),
  );
});

test("RFC 7959 §2.2: block values round-trip; SZX 7 is reserved", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xfffff }),
      fc.boolean(),
      fc.integer({ min: 0, max: 6 }),
      (num, more, szx) => {
        assert.deepEqual(decodeBlock(encodeBlock({ num, more, szx })), { num, more, szx });
      },
    ),
  );
  assert.equal(decodeBlock(0x17), undefined);
});
