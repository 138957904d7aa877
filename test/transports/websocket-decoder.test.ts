/**
 * The WebSocket frame decoder (src/transports/websocket/frame-decoder.ts) on its own: every length
 * form, streams split anywhere (every boundary, and random splits with fast-check), fragmentation
 * with control frames in between, the no-copy fast path, and each protocol error with its close code.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FrameDecoder } from "../../src/transports/websocket/frame-decoder.js";
import { clientFrame, closePayload } from "./websocket-frames.js";

type Event =
  | { kind: "message"; binary: boolean; data: string }
  | { kind: "control"; opcode: number; data: string }
  | { kind: "fail"; code: number };

function decoder(maxPayload = 1 << 20): { d: FrameDecoder; events: Event[] } {
  const events: Event[] = [];
  const d = new FrameDecoder(maxPayload, {
    message: (payload, binary) => events.push({ kind: "message", binary, data: payload.toString("hex") }),
    control: (opcode, payload) => events.push({ kind: "control", opcode, data: payload.toString("hex") }),
    fail: (code) => events.push({ kind: "fail", code }),
  });
  return { d, events };
}

/** Decodes `stream` fed as the pieces between `cuts` (sorted offsets); `stream` is copied first (unmasking is in place). */
function decodeSplit(stream: Buffer, cuts: number[], maxPayload?: number): Event[] {
  const bytes = Buffer.from(stream);
  const { d, events } = decoder(maxPayload);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    d.push(bytes.subarray(from, cut));
    from = cut;
  }
  return events;
}

const hex = (s: string | Buffer): string => Buffer.from(s).toString("hex");

test("whole text and binary frames in each length form, masked and with a zero mask", () => {
  const zero = Buffer.alloc(4);
  for (const n of [0, 1, 125, 126, 300, 65535, 65536, 70_000]) {
    for (const mask of [undefined, zero]) {
      const text = "é".repeat(Math.floor(n / 2)) + "x".repeat(n % 2);
      const bin = Buffer.alloc(n, 0xa5);
      const stream = Buffer.concat([clientFrame(1, text, { mask }), clientFrame(2, bin, { mask })]);
      assert.deepEqual(decodeSplit(stream, []), [
        { kind: "message", binary: false, data: hex(text) },
        { kind: "message", binary: true, data: hex(bin) },
      ]);
    }
  }
  // Longer length forms than needed are accepted (RFC 6455 §5.2 asks senders for the shortest).
  const stream = Buffer.concat([
    clientFrame(2, "ab", { lengthForm: 16 }),
    clientFrame(2, "cd", { lengthForm: 64 }),
  ]);
  assert.deepEqual(
    decodeSplit(stream, []).map((e) => (e as { data: string }).data),
    [hex("ab"), hex("cd")],
  );
});

test("a whole frame inside one chunk is delivered as a view of the chunk, no copy", () => {
  const chunk = Buffer.concat([clientFrame(2, "first"), clientFrame(1, "second", { mask: Buffer.alloc(4) })]);
  const views: Buffer[] = [];
  const d = new FrameDecoder(1024, {
    message: (payload) => views.push(payload),
    control: () => {},
    fail: () => assert.fail("no error expected"),
  });
  d.push(chunk);
  assert.equal(views.length, 2);
  for (const v of views) assert.equal(v.buffer, chunk.buffer);
  assert.equal(views[0]!.byteOffset, chunk.byteOffset + 6);
  assert.deepEqual(
    views.map((v) => v.toString()),
    ["first", "second"],
  );
});

/** Several frames of every kind: fragmented text with a ping inside, every length form, close last. */
function mixedStream(): { stream: Buffer; expected: Event[] } {
  const big = Buffer.alloc(300, 7);
  const frames = [
    clientFrame(1, "héllo ", { fin: false }),
    clientFrame(9, "ping!"),
    clientFrame(0, "wörld", { fin: false }),
    clientFrame(0, "", { fin: false }),
    clientFrame(0, "!"),
    clientFrame(2, big),
    clientFrame(2, "forced 64", { lengthForm: 64 }),
    clientFrame(10, "pong"),
    clientFrame(1, ""),
    clientFrame(8, closePayload(1000, "done")),
  ];
  const expected: Event[] = [
    { kind: "control", opcode: 9, data: hex("ping!") },
    { kind: "message", binary: false, data: hex("héllo wörld!") },
    { kind: "message", binary: true, data: hex(big) },
    { kind: "message", binary: true, data: hex("forced 64") },
    { kind: "control", opcode: 10, data: hex("pong") },
    { kind: "message", binary: false, data: "" },
    { kind: "control", opcode: 8, data: hex(closePayload(1000, "done")) },
  ];
  return { stream: Buffer.concat(frames), expected };
}

test("a stream split at every byte boundary, and fed one byte at a time, gives the same events", () => {
  const { stream, expected } = mixedStream();
  assert.deepEqual(decodeSplit(stream, []), expected);
  for (let cut = 1; cut < stream.length; cut++)
    assert.deepEqual(decodeSplit(stream, [cut]), expected, `cut ${cut}`);
  const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(decodeSplit(stream, everyByte), expected);
});

const messageArb = fc.record({
  binary: fc.boolean(),
  text: fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ minLength: 100, maxLength: 400 }),
  ),
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ minLength: 120, maxLength: 700 }),
    fc.constant(new Uint8Array(66_000)),
  ),
  /** Fragment boundaries, as fractions of the payload. */
  fragments: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  pingAfter: fc.array(fc.boolean(), { maxLength: 4 }),
  zeroMask: fc.boolean(),
});

test("random messages, fragments and pings, split at random places, give the same events (property)", () => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
      (messages, cutFractions) => {
        const frames: Buffer[] = [];
        const expected: Event[] = [];
        for (const m of messages) {
          const payload = m.binary ? Buffer.from(m.bytes) : Buffer.from(m.text);
          const mask = m.zeroMask ? Buffer.alloc(4) : undefined;
          const bounds = [...new Set(m.fragments.map((f) => Math.floor(f * payload.length)))].sort(
            (a, b) => a - b,
          );
          const pieces: Buffer[] = [];
          let from = 0;
          for (const b of [...bounds, payload.length]) {
            pieces.push(payload.subarray(from, b));
            from = b;
          }
          pieces.forEach((piece, i) => {
            const opcode = i === 0 ? (m.binary ? 2 : 1) : 0;
            const fin = i === pieces.length - 1;
            frames.push(clientFrame(opcode, piece, { fin, mask }));
            if (fin) expected.push({ kind: "message", binary: m.binary, data: payload.toString("hex") });
            if (m.pingAfter[i]) {
              frames.push(clientFrame(9, `p${i}`));
              expected.push({ kind: "control", opcode: 9, data: hex(`p${i}`) });
            }
          });
        }
        const stream = Buffer.concat(frames);
        const cuts = [...new Set(cutFractions.map((f) => Math.floor(f * stream.length)))].sort(
          (a, b) => a - b,
        );
        assert.deepEqual(decodeSplit(stream, cuts), expected);
      },
    ),
    { numRuns: 150 },
  );
});

test("protocol errors: the close code, and nothing decoded after", () => {
  const cases: Array<[string, Buffer, number]> = [
    ["an unmasked frame", clientFrame(2, "x", { mask: null }), 1002],
    ["RSV1 set", clientFrame(2, "x", { rsv: 4 }), 1002],
    ["RSV3 set", clientFrame(1, "x", { rsv: 1 }), 1002],
    ["opcode 3", clientFrame(3, "x"), 1002],
    ["opcode 0xB", clientFrame(0xb, "x"), 1002],
    ["a ping of 126 bytes", clientFrame(9, Buffer.alloc(126)), 1002],
    ["a close of 200 bytes", clientFrame(8, Buffer.alloc(200)), 1002],
    ["a fragmented ping", clientFrame(9, "x", { fin: false }), 1002],
    ["a continuation with nothing to continue", clientFrame(0, "x"), 1002],
    [
      "a new text frame inside a fragmented message",
      Buffer.concat([clientFrame(1, "a", { fin: false }), clientFrame(1, "b")]),
      1002,
    ],
    ["a 64-bit length with the top bit set", clientFrame(2, "", { high: 0x80000000, length: 0 }), 1002],
    ["a message over the limit", clientFrame(2, Buffer.alloc(1001)), 1009],
    [
      "a fragmented message over the limit",
      Buffer.concat([clientFrame(2, Buffer.alloc(600), { fin: false }), clientFrame(0, Buffer.alloc(401))]),
      1009,
    ],
    ["invalid UTF-8 in a text message", clientFrame(1, Buffer.from([0x61, 0xc3, 0x28])), 1007],
    [
      "invalid UTF-8 across fragments",
      Buffer.concat([
        clientFrame(1, Buffer.from([0xe2, 0x82]), { fin: false }),
        clientFrame(0, Buffer.from([0x41])),
      ]),
      1007,
    ],
  ];
  const after = clientFrame(2, "after");
  for (const [name, bytes, code] of cases) {
    const stream = Buffer.concat([bytes, after]);
    assert.deepEqual(decodeSplit(stream, [], 1000), [{ kind: "fail", code }], name);
    assert.deepEqual(decodeSplit(stream, [1], 1000), [{ kind: "fail", code }], `${name}, split after 1 byte`);
  }
  // UTF-8 split between fragments is fine when the whole message is valid.
  const euro = Buffer.from("€");
  const split = Buffer.concat([
    clientFrame(1, euro.subarray(0, 2), { fin: false }),
    clientFrame(0, euro.subarray(2)),
  ]);
  assert.deepEqual(decodeSplit(split, []), [{ kind: "message", binary: false, data: hex(euro) }]);
});

test("an oversized message is refused from its header, before its payload arrives", () => {
  const { d, events } = decoder(1000);
  const frame = clientFrame(2, "", { length: 16 * 1024 * 1024 });
  d.push(frame); // the header alone
  assert.deepEqual(events, [{ kind: "fail", code: 1009 }]);
  // A message exactly at the limit is accepted.
  assert.deepEqual(decodeSplit(clientFrame(2, Buffer.alloc(1000)), [500], 1000).length, 1);
});

test("stop(): nothing more is decoded", () => {
  const { d, events } = decoder();
  const frame = clientFrame(2, "abcdef");
  d.push(frame.subarray(0, 8));
  d.stop();
  d.push(frame.subarray(8));
  d.push(clientFrame(2, "x"));
  assert.deepEqual(events, []);
});
