/**
 * The AMQP 1.0 type system (part 1 §1.6) with property tests: every primitive type, described
 * values, lists, maps and arrays round-trip exactly; frames round-trip; random and truncated bytes
 * give DecodeError and nothing else.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { DecodeError, decode } from "../../../../src/protocols/amqp10/codec/decoder.js";
import { encode } from "../../../../src/protocols/amqp10/codec/encoder.js";
import { decodeFrame, encodeFrame, P } from "../../../../src/protocols/amqp10/codec/frames.js";
import type { AmqpTypeName, AmqpValue } from "../../../../src/protocols/amqp10/codec/types.js";

const f32 = (x: number): number => Math.fround(x);

const symbolText = fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, "a"));
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u));

/** One arbitrary per primitive type. */
const PRIMITIVES: Record<string, fc.Arbitrary<AmqpValue>> = {
  null: fc.constant({ type: "null" }),
  boolean: fc.boolean().map((value) => ({ type: "boolean", value })),
  ubyte: fc.integer({ min: 0, max: 255 }).map((value) => ({ type: "ubyte", value })),
  byte: fc.integer({ min: -128, max: 127 }).map((value) => ({ type: "byte", value })),
  ushort: fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: "ushort", value })),
  short: fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: "short", value })),
  uint: fc
    .oneof(fc.constantFrom(0, 1, 255, 256), fc.integer({ min: 0, max: 0xffffffff }))
    .map((value) => ({ type: "uint", value })),
  int: fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ type: "int", value })),
  char: fc.integer({ min: 0, max: 0x10ffff }).map((value) => ({ type: "char", value })),
  float: fc.float({ noNaN: true }).map((value) => ({ type: "float", value: f32(value) })),
  double: fc.double({ noNaN: true }).map((value) => ({ type: "double", value })),
  ulong: fc.bigInt(0n, 2n ** 64n - 1n).map((value) => ({ type: "ulong", value })),
  long: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((value) => ({ type: "long", value })),
  timestamp: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((value) => ({ type: "timestamp", value })),
  decimal32: bytes(4).map((value) => ({ type: "decimal32", value })),
  decimal64: bytes(8).map((value) => ({ type: "decimal64", value })),
  decimal128: bytes(16).map((value) => ({ type: "decimal128", value })),
  uuid: bytes(16).map((value) => ({ type: "uuid", value })),
  binary: fc.uint8Array({ maxLength: 400 }).map((u) => ({ type: "binary", value: Buffer.from(u) })),
  string: fc.string({ maxLength: 300, unit: "grapheme" }).map((value) => ({ type: "string", value })),
  symbol: symbolText.map((value) => ({ type: "symbol", value })),
};

const primitive = fc.oneof(...Object.values(PRIMITIVES));

/** An array: every element of one type. */
const arrayOf = (elem: fc.Arbitrary<AmqpValue>) =>
  fc
    .tuple(fc.constantFrom(...(Object.keys(PRIMITIVES) as AmqpTypeName[])), fc.nat({ max: 6 }))
    .chain(([t, n]) =>
      fc
        .array(PRIMITIVES[t]!, { minLength: n, maxLength: n })
        .map((value) => ({ type: "array" as const, elementType: t, value })),
    )
    .filter(() => elem !== undefined);

const { value: anyValue } = fc.letrec<{ value: AmqpValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    primitive,
    fc.array(tie("value"), { maxLength: 5 }).map((value) => ({ type: "list" as const, value })),
    fc
      .array(fc.tuple(tie("value"), tie("value")), { maxLength: 4 })
      .map((value) => ({ type: "map" as const, value })),
    arrayOf(primitive),
    fc
      .tuple(
        fc.oneof(
          fc.bigInt(0n, 2n ** 64n - 1n).map((v) => ({ type: "ulong" as const, value: v })),
          symbolText.map((v) => ({ type: "symbol" as const, value: v })),
        ),
        tie("value"),
      )
      .map(([descriptor, value]) => ({ type: "described" as const, descriptor, value })),
  ),
}));

function same(a: AmqpValue, b: AmqpValue): void {
  assert.deepEqual(b, a);
}

test("every primitive type round-trips exactly (part 1 §1.6)", { timeout: 60_000 }, () => {
  for (const [name, arb] of Object.entries(PRIMITIVES)) {
    fc.assert(
      fc.property(arb, (v) => same(v, decode(encode(v)))),
      { numRuns: 200, seed: name.length },
    );
  }
});

test("lists, maps, arrays and described values round-trip at any nesting", { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(anyValue, (v) => same(v, decode(encode(v)))),
    { numRuns: 500 },
  );
});

test("arrays of described values, of lists and of arrays round-trip (part 1 §1.6.24)", {
  timeout: 10_000,
}, () => {
  const d = (n: number): AmqpValue => ({
    type: "described",
    descriptor: { type: "ulong", value: 0x28n },
    value: { type: "uint", value: n },
  });
  const cases: AmqpValue[] = [
    { type: "array", elementType: "described", value: [d(1), d(300)] },
    {
      type: "array",
      elementType: "list",
      value: [
        { type: "list", value: [{ type: "null" }] },
        { type: "list", value: [] },
      ],
    },
    {
      type: "array",
      elementType: "array",
      value: [
        { type: "array", elementType: "symbol", value: [{ type: "symbol", value: "a" }] },
        { type: "array", elementType: "int", value: [] },
      ],
    },
    {
      type: "array",
      elementType: "map",
      value: [
        {
          type: "map",
          value: [
            [
              { type: "string", value: "k" },
              { type: "boolean", value: true },
            ],
          ],
        },
      ],
    },
    { type: "array", elementType: "string", value: [{ type: "string", value: "x".repeat(300) }] },
  ];
  for (const v of cases) same(v, decode(encode(v)));
});

test("compact encodings are used: uint0, smalluint, list0, str8", { timeout: 5000 }, () => {
  assert.deepEqual(encode({ type: "uint", value: 0 }), Buffer.from([0x43]));
  assert.deepEqual(encode({ type: "uint", value: 7 }), Buffer.from([0x52, 7]));
  assert.deepEqual(encode({ type: "ulong", value: 0n }), Buffer.from([0x44]));
  assert.deepEqual(encode({ type: "list", value: [] }), Buffer.from([0x45]));
  assert.deepEqual(encode({ type: "string", value: "ab" }), Buffer.from([0xa1, 2, 0x61, 0x62]));
  assert.deepEqual(encode({ type: "boolean", value: true }), Buffer.from([0x41]));
  // Long compounds switch to the 32-bit form.
  const big = encode({ type: "list", value: [{ type: "binary", value: Buffer.alloc(300) }] });
  assert.equal(big[0], 0xd0);
});

test("the decoder reads the non-compact forms other encoders use", { timeout: 5000 }, () => {
  assert.deepEqual(decode(Buffer.from([0x70, 0, 0, 0, 5])), { type: "uint", value: 5 });
  assert.deepEqual(decode(Buffer.from([0x56, 0x01])), { type: "boolean", value: true });
  assert.deepEqual(decode(Buffer.from([0xd0, 0, 0, 0, 5, 0, 0, 0, 1, 0x40])), {
    type: "list",
    value: [{ type: "null" }],
  });
  assert.deepEqual(decode(Buffer.from([0xb1, 0, 0, 0, 1, 0x61])), { type: "string", value: "a" });
});

test("truncated encodings give DecodeError at every cut", { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(anyValue, (v) => {
      const b = encode(v);
      for (let cut = 0; cut < b.length; cut++) {
        assert.throws(() => decode(b.subarray(0, cut)), DecodeError);
      }
    }),
    { numRuns: 200 },
  );
});

test("random bytes give a value or DecodeError, never another error", { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
      try {
        decode(Buffer.from(u));
      } catch (err) {
        assert.ok(err instanceof DecodeError, String(err));
      }
    }),
    { numRuns: 5000 },
  );
});

test("malformed encodings: bad constructor, bad boolean, invalid UTF-8, non-ASCII symbol, odd map", {
  timeout: 5000,
}, () => {
  for (const b of [
    [0x99],
    [0x56, 0x02],
    [0xa1, 0x02, 0xc3, 0x28],
    [0xa3, 0x01, 0xff],
    [0xc1, 0x02, 0x01, 0x40],
    [0x00, 0x40, 0x40],
    [0xc0, 0x03, 0x05, 0x40, 0x40],
  ]) {
    assert.throws(() => decode(Buffer.from(b)), DecodeError, Buffer.from(b).toString("hex"));
  }
});

test("frames round-trip: performative fields and payload (part 2 §2.3)", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 65535 }),
      fc.constantFrom(P.open, P.begin, P.attach, P.flow, P.transfer, P.disposition, P.detach, P.end, P.close),
      fc.array(anyValue, { maxLength: 6 }),
      fc.uint8Array({ maxLength: 100 }),
      (channel, code, fields, payload) => {
        // Trailing nulls are dropped by the encoder (part 1 §1.4).
        while (fields.length > 0 && fields[fields.length - 1]!.type === "null") fields.pop();
        const b = encodeFrame(0, channel, code, fields, Buffer.from(payload));
        assert.equal(b.readUInt32BE(0), b.length);
        const f = decodeFrame(b);
        assert.equal(f.channel, channel);
        assert.equal(f.code, code);
        assert.deepEqual(f.fields, fields);
        assert.deepEqual(Buffer.from(f.payload), Buffer.from(payload));
      },
    ),
    { numRuns: 300 },
  );
});

test("an empty frame is a heartbeat; a bad data offset is a DecodeError", { timeout: 5000 }, () => {
  assert.equal(decodeFrame(Buffer.from([0, 0, 0, 8, 2, 0, 0, 0])).code, undefined);
  assert.throws(() => decodeFrame(Buffer.from([0, 0, 0, 8, 1, 0, 0, 0])), DecodeError);
  assert.throws(() => decodeFrame(Buffer.from([0, 0, 0, 8, 9, 0, 0, 0])), DecodeError);
});
