import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  encodeFrame,
  type Header,
  StompCodecError,
  StompDecoder,
  type StompFrame,
  type StompVersion,
} from "../../../../src/protocols/stomp/codec/index.js";

const LIMITS = { maxFrameSize: 1 << 20, maxHeaders: 64, maxHeaderLength: 4096 };

function decodeAll(bytes: Buffer, version: StompVersion = "1.2", limits = LIMITS): StompFrame[] {
  const d = new StompDecoder(limits);
  d.version = version;
  const out: StompFrame[] = [];
  d.push(bytes, (f) => out.push({ ...f, body: Buffer.from(f.body) }));
  return out;
}

/** Feeds the bytes split at `at` (and, with every=true, one byte at a time). */
function decodeSplit(bytes: Buffer, cuts: number[], version: StompVersion = "1.2"): StompFrame[] {
  const d = new StompDecoder(LIMITS);
  d.version = version;
  const out: StompFrame[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    d.push(bytes.subarray(prev, cut), (f) => out.push({ ...f, body: Buffer.from(f.body) }));
    prev = cut;
  }
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StompCodecError) return err.code;
    throw err;
  }
  return "none";
}

test("STOMP 1.2 §Body: a binary body with NUL bytes survives with content-length", () => {
  const body = Buffer.from([0, 1, 0, 255, 0]);
  const [f] = decodeAll(encodeFrame("SEND", [["destination", "/queue/a"]], "1.2", body));
  assert.equal(f!.command, "SEND");
  assert.deepEqual(f!.body, body);
});

test("STOMP 1.2 §Body: without content-length the body ends at the first NUL", () => {
  const frames = decodeAll(
    Buffer.from("SEND\ndestination:/topic/x\n\nhello\0SEND\ndestination:/topic/y\n\n\0"),
  );
  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.body.toString(), "hello");
  assert.equal(frames[1]!.body.length, 0);
});

test("STOMP 1.2 §Heart-beating: EOLs between frames are skipped; CR LF line endings accepted", () => {
  const frames = decodeAll(Buffer.from("\n\r\n\nSEND\r\ndestination:/topic/x\r\n\r\nbody\0\n\n"));
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0]!.headers, [["destination", "/topic/x"]]);
  assert.equal(frames[0]!.body.toString(), "body");
});

test("STOMP 1.2 §Value Encoding: escapes decoded in 1.2, \\r is undefined in 1.1, nothing decoded in 1.0", () => {
  const raw = Buffer.from("SEND\na\\cb:x\\ny\\\\z\\r\n\n\0");
  assert.deepEqual(decodeAll(raw, "1.2")[0]!.headers, [["a:b", "x\ny\\z\r"]]);
  assert.equal(
    codeOf(() => decodeAll(raw, "1.1")),
    "bad-escape",
  );
  assert.deepEqual(decodeAll(raw, "1.0")[0]!.headers, [["a\\cb", "x\\ny\\\\z\\r"]]);
  assert.equal(
    codeOf(() => decodeAll(Buffer.from("SEND\na:\\t\n\n\0"), "1.2")),
    "bad-escape",
  );
  assert.equal(
    codeOf(() => decodeAll(Buffer.from("SEND\na:x\\\n\n\0"), "1.2")),
    "bad-escape",
  );
});

test("STOMP 1.2 §Value Encoding: CONNECT headers are never unescaped", () => {
  const [f] = decodeAll(Buffer.from("CONNECT\nlogin:a\\b\n\n\0"), "1.2");
  assert.deepEqual(f!.headers, [["login", "a\\b"]]);
});

test("STOMP 1.2 §Repeated Header Entries: every repeat is kept, in order", () => {
  const [f] = decodeAll(Buffer.from("SEND\nfoo:1\nfoo:2\n\n\0"));
  assert.deepEqual(f!.headers, [
    ["foo", "1"],
    ["foo", "2"],
  ]);
});

test("bad input: one error code per rule", () => {
  const small = { maxFrameSize: 200, maxHeaders: 3, maxHeaderLength: 50 };
  const cases: Array<[string, string | Buffer, typeof LIMITS?]> = [
    ["bad-command", "send\n\n\0"],
    ["bad-command", "SE ND\n\n\0"],
    ["bad-header", "SEND\nnocolon\n\n\0"],
    ["bad-header", "SEND\n:value\n\n\0"],
    ["bad-content-length", "SEND\ncontent-length:abc\n\nx\0"],
    ["bad-content-length", "SEND\ncontent-length:-1\n\nx\0"],
    ["content-length-mismatch", "SEND\ncontent-length:2\n\nabc\0"],
    ["frame-too-large", `SEND\ncontent-length:500\n\n`, small],
    ["frame-too-large", `SEND\n\n${"x".repeat(300)}`, small],
    ["frame-too-large", `SEND\n\n${"x".repeat(300)}\0`, small],
    ["too-many-headers", "SEND\na:1\nb:2\nc:3\nd:4\n\n\0", small],
    ["header-too-long", `SEND\na:${"x".repeat(60)}\n\n\0`, small],
    ["header-too-long", `SEND\na:${"x".repeat(60)}`, small],
  ];
  for (const [code, input, limits] of cases) {
    const bytes = typeof input === "string" ? Buffer.from(input) : input;
    assert.equal(
      codeOf(() => decodeAll(bytes, "1.2", limits ?? LIMITS)),
      code,
      JSON.stringify(input),
    );
  }
});

test("limits are checked before the bytes are buffered: an endless header line fails early", () => {
  const d = new StompDecoder({ maxFrameSize: 1000, maxHeaders: 10, maxHeaderLength: 100 });
  d.push(Buffer.from("SEND\n"), () => {});
  assert.equal(
    codeOf(() => d.push(Buffer.alloc(200, 0x61), () => {})),
    "header-too-long",
  );
});

// ---- property tests ----------------------------------------------------------------------------

const token = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== "content-length");
const headerArb: fc.Arbitrary<Header> = fc.tuple(token, fc.string({ maxLength: 20 }));
const frameArb = fc.record({
  command: fc.constantFrom("SEND", "SUBSCRIBE", "MESSAGE", "ACK", "BEGIN"),
  headers: fc.array(headerArb, { maxLength: 6 }),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
});

test("property: encode then decode is the identity (1.1 and 1.2 escaping, binary bodies)", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 4 }),
      fc.constantFrom<StompVersion>("1.1", "1.2"),
      (frames, version) => {
        // 1.1 has no escape for CR (it is sent as it is), so 1.1 frames keep CRs out of the headers.
        if (version === "1.1")
          frames = frames.map((f) => ({
            ...f,
            headers: f.headers.map(([n, v]) => [n.replace(/\r/g, ""), v.replace(/\r/g, "")] as Header),
          }));
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.command, f.headers, version, f.body)));
        const got = decodeAll(bytes, version);
        assert.equal(got.length, frames.length);
        for (let i = 0; i < frames.length; i++) {
          assert.equal(got[i]!.command, frames[i]!.command);
          const expected =
            frames[i]!.body.length > 0
              ? [...frames[i]!.headers, ["content-length", String(frames[i]!.body.length)]]
              : frames[i]!.headers;
          assert.deepEqual(got[i]!.headers, expected);
          assert.deepEqual(got[i]!.body, frames[i]!.body);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("property: any split of the input gives the same frames (and every single-byte split)", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (frames, rawCuts) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.command, f.headers, "1.2", f.body)));
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        assert.deepEqual(decodeSplit(bytes, cuts), decodeAll(bytes));
      },
    ),
    { numRuns: 300 },
  );
  const bytes = Buffer.concat([
    encodeFrame(
      "SEND",
      [
        ["destination", "/topic/a"],
        ["x", "a:b\nc"],
      ],
      "1.2",
      Buffer.from([0, 1, 2]),
    ),
    Buffer.from("\r\n\n"),
    Buffer.from("SEND\r\ndestination:/queue/q\r\n\r\nplain\0"),
  ]);
  const whole = decodeAll(bytes);
  assert.equal(whole.length, 2);
  for (let at = 0; at <= bytes.length; at++)
    assert.deepEqual(decodeSplit(bytes, [at]), whole, `split at ${at}`);
  const oneByOne = Array.from({ length: bytes.length }, (_, i) => i);
  assert.deepEqual(decodeSplit(bytes, oneByOne), whole);
});

test("property: random bytes only ever raise StompCodecError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (a) => {
      try {
        decodeAll(Buffer.from(a), "1.2", { maxFrameSize: 200, maxHeaders: 4, maxHeaderLength: 50 });
      } catch (err) {
        assert.ok(err instanceof StompCodecError, String(err));
      }
    }),
    { numRuns: 1000 },
  );
});
