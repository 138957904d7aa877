/** The WAMP codec: serializers (with JSON's binary rule), message checks, URI rules, RawSocket framing. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { checkMessage } from "../../../../src/protocols/wamp/codec/messages.js";
import {
  encodeHandshake,
  FrameType,
  frameHeader,
  lengthExponent,
  parseHandshake,
  RawSocketDecoder,
  RawSocketError,
} from "../../../../src/protocols/wamp/codec/rawsocket.js";
import {
  cborSerializer,
  jsonSerializer,
  msgpackSerializer,
} from "../../../../src/protocols/wamp/codec/serializers.js";
import { isValidUri } from "../../../../src/protocols/wamp/codec/uri.js";

test("WAMP §2.3.1 JSON: binary travels as \\0 + Base64, anywhere in a message, and comes back as bytes", () => {
  const msg = [36, 1, 2, {}, [Buffer.from([1, 2, 3]), { deep: [Buffer.from("hi")] }], { k: Buffer.alloc(0) }];
  const text = jsonSerializer.encode(msg).toString();
  assert.equal(text, '[36,1,2,{},["\\u0000AQID",{"deep":["\\u0000aGk="]}],{"k":"\\u0000"}]');
  assert.deepEqual(jsonSerializer.decode(Buffer.from(text)), msg);
  const plain = [36, 1, 2, {}, ["no binary"]];
  assert.equal(jsonSerializer.encode(plain).toString(), JSON.stringify(plain));
});

test("every serializer round-trips WAMP values, 2^53 ids as numbers and binary as bytes", () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array().map((a) => Buffer.from(a)),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(
        fc.string().filter((k) => k !== "__proto__"),
        tie("v"),
        { maxKeys: 4, noNullPrototype: true },
      ),
    ),
  })).v;
  for (const s of [jsonSerializer, msgpackSerializer, cborSerializer]) {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (args) => {
        const msg = [
          16,
          2 ** 53,
          {},
          "com.topic",
          args.filter((a) => typeof a !== "string" || !a.startsWith("\u0000")),
        ];
        assert.deepEqual(s.decode(s.encode(msg)), msg);
      }),
      { numRuns: 200 },
    );
  }
});

test("checkMessage accepts well-formed messages and names what is wrong with the others", () => {
  assert.equal(checkMessage([1, "realm1", { roles: {} }]), undefined);
  assert.equal(checkMessage([48, 1, {}, "p"]), undefined);
  assert.equal(checkMessage([48, 1, {}, "p", [1]]), undefined);
  assert.equal(checkMessage([48, 1, {}, "p", [1], { a: 1 }]), undefined);
  assert.equal(checkMessage([70, 1, {}]), undefined);
  assert.equal(checkMessage([8, 68, 1, {}, "e.uri", [], {}]), undefined);
  const bad: unknown[] = [
    "x",
    [],
    ["1"],
    [2, 1, {}], // WELCOME is router-to-client
    [48, 1, {}, "p", {}],
    [48, 1, {}, "p", [], []],
    [48, 1, {}, "p", [], {}, 1],
    [48, 1.5, {}, "p"],
    [48, 1, null, "p"],
    [48, 1, {}, 7],
    [32, 1, {}],
    [34, 1, "1"],
    [1, "r", Buffer.from("x")],
  ];
  for (const m of bad) assert.equal(typeof checkMessage(m), "string", JSON.stringify(m));
});

test("WAMP §2.1.1 URIs: loose and strict rules, empty components only for patterns", () => {
  for (const u of ["com.example.proc", "a", "com.Example.x-y", "a/b.c", "öbb.topic"])
    assert.ok(isValidUri(u, "loose"), u);
  for (const u of ["", "a..b", ".a", "a.", "a b.c", "a.#", "a\tb"])
    assert.ok(!isValidUri(u, "loose"), JSON.stringify(u));
  for (const u of ["com.example_1.proc"]) assert.ok(isValidUri(u, "strict"), u);
  for (const u of ["com.Example", "com.ex-ample", "a/b"]) assert.ok(!isValidUri(u, "strict"), u);
  for (const u of ["com..proc", "com.app.", ".x", "a..b.."]) assert.ok(isValidUri(u, "loose", true), u);
  assert.ok(!isValidUri("", "loose", true));
  assert.ok(!isValidUri("com..a b", "loose", true));
});

test("RawSocket handshake: serializer and 2^(9+L) maximum, errors for reserved bits", () => {
  assert.deepEqual(parseHandshake(Buffer.from([0x7f, 0xf2, 0, 0])), {
    maxLength: 2 ** 24,
    serializerCode: 2,
  });
  assert.equal(parseHandshake(Buffer.from([0x7f, 0x01, 0, 1])), 3);
  assert.equal(parseHandshake(Buffer.from([0x00, 0x01, 0, 0])), -1);
  assert.equal(lengthExponent(1 << 20), 11);
  assert.equal(lengthExponent(1_000_000), 10, "rounded down to a power of two");
  assert.deepEqual([...encodeHandshake(1 << 20, 3)], [0x7f, 0xb3, 0, 0]);
});

test("RawSocket frames decode the same whatever the chunking (split at every byte boundary)", () => {
  const frames = [
    Buffer.concat([frameHeader(FrameType.MESSAGE, 5), Buffer.from("hello")]),
    Buffer.concat([frameHeader(FrameType.PING, 2), Buffer.from("p!")]),
    frameHeader(FrameType.MESSAGE, 0),
    Buffer.concat([frameHeader(FrameType.MESSAGE, 300), Buffer.alloc(300, 7)]),
  ];
  const all = Buffer.concat(frames);
  const expected = [
    [0, "hello"],
    [1, "p!"],
    [0, ""],
    [0, "\u0007".repeat(300)],
  ];
  for (let cut1 = 0; cut1 <= all.length; cut1++) {
    for (const cut2 of [cut1, Math.min(all.length, cut1 + 1), Math.min(all.length, cut1 + 7)]) {
      const d = new RawSocketDecoder(1024);
      const got: Array<[number, string]> = [];
      for (const part of [all.subarray(0, cut1), all.subarray(cut1, cut2), all.subarray(cut2)]) {
        d.push(part, (t, p) => got.push([t, p.toString("latin1")]));
      }
      assert.deepEqual(got, expected, `cut at ${cut1}/${cut2}`);
    }
  }
  const oneByOne = new RawSocketDecoder(1024);
  const got: number[] = [];
  for (const byte of all) oneByOne.push(Buffer.from([byte]), (t) => got.push(t));
  assert.deepEqual(got, [0, 1, 0, 0]);
});

test("RawSocket frames longer than the announced maximum, or with reserved bits, are errors before allocation", () => {
  assert.throws(() => new RawSocketDecoder(16).push(frameHeader(0, 17), () => {}), RawSocketError);
  assert.throws(
    () => new RawSocketDecoder(16).push(Buffer.from([0x08, 0, 0, 1, 0]), () => {}),
    RawSocketError,
  );
  assert.throws(() => new RawSocketDecoder(16).push(Buffer.from([0x03, 0, 0, 0]), () => {}), RawSocketError);
});
