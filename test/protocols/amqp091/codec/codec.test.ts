/**
 * The AMQP 0-9-1 codec with property tests (fast-check): every method, field tables, content
 * properties and frames round-trip; the frame decoder gives the same frames whatever the chunking,
 * including split at every byte boundary (STYLE.md convention 3).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  AmqpError,
  type BasicProperties,
  decodeMethod,
  encodeContent,
  encodeMethod,
  encodeProperties,
  type FieldTable,
  type FieldValue,
  type Frame,
  FrameDecoder,
  type MethodArgs,
  methodSpec,
  Reader,
  ReplyCode,
  readProperties,
  Writer,
} from "../../../../src/protocols/amqp091/codec/index.js";

const ALL_IDS: Array<[number, number]> = [];
for (let c = 0; c <= 100; c++) for (let m = 0; m <= 130; m++) if (methodSpec(c, m)) ALL_IDS.push([c, m]);

/** Field values in the form the decoder returns them (no -0: int32 has none). */
const fieldValue: fc.Arbitrary<FieldValue> = fc
  .letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.boolean(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.constant(null),
      fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u)),
      fc.array(tie("value"), { maxLength: 4 }),
      tie("table"),
    ),
    table: fc.dictionary(
      fc.string({ maxLength: 20 }).filter((k) => Buffer.byteLength(k) <= 255),
      tie("value"),
      { maxKeys: 5 },
    ),
  }))
  .value.map((v) => (Object.is(v, -0) ? 0 : v));

const fieldTable = fc
  .dictionary(
    fc.string({ maxLength: 20 }).filter((k) => Buffer.byteLength(k) <= 255),
    fieldValue,
    { maxKeys: 6 },
  )
  .map((t) => ({ ...t }) as FieldTable);

const shortstr = fc.string({ maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);

/** Plain objects for deepEqual (fast-check builds null-prototype ones). */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    // defineProperty: a "__proto__" key is an own entry, as the codec keeps it.
    for (const [k, x] of Object.entries(v)) {
      Object.defineProperty(out, k, {
        value: plain(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

test("a '__proto__' key in a field table is an entry, not the prototype", () => {
  const w = new Writer();
  w.long(0);
  const at = w.offset;
  w.shortstr("__proto__");
  w.fieldValue({ polluted: true });
  w.buf.writeUInt32BE(w.offset - at, 0);
  const t = new Reader(Buffer.from(w.result())).table();
  assert.equal(Object.getPrototypeOf(t), Object.prototype);
  assert.deepEqual(Object.keys(t), ["__proto__"]);
  assert.equal((t as { polluted?: boolean }).polluted, undefined);
});

test("field tables round-trip (typed values, nesting, arrays, bytes)", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(fieldTable, (t) => {
      const w = new Writer(8);
      w.table(t);
      const back = new Reader(Buffer.from(w.result())).table();
      assert.deepEqual(plain(back), plain(t));
    }),
    { numRuns: 300 },
  );
});

/** Arguments for one method, in the decoder's output form. */
function argsFor(classId: number, methodId: number): fc.Arbitrary<MethodArgs> {
  const spec = methodSpec(classId, methodId)!;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, type] of spec.fields) {
    fields[name] =
      type === "octet"
        ? fc.integer({ min: 0, max: 255 })
        : type === "short"
          ? fc.integer({ min: 0, max: 65535 })
          : type === "long"
            ? fc.integer({ min: 0, max: 2 ** 32 - 1 })
            : type === "longlong"
              ? fc.maxSafeNat()
              : type === "shortstr"
                ? shortstr
                : type === "longstr"
                  ? fc.string({ maxLength: 300 })
                  : type === "bytes"
                    ? fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u))
                    : type === "bit"
                      ? fc.boolean()
                      : fieldTable;
  }
  return fc.record(fields) as fc.Arbitrary<MethodArgs>;
}

const anyMethod = fc
  .constantFrom(...ALL_IDS)
  .chain(([c, m]) => argsFor(c, m).map((args) => ({ name: methodSpec(c, m)!.name, args })));

test("every method round-trips through encodeMethod, the frame decoder and decodeMethod", {
  timeout: 60_000,
}, () => {
  assert.equal(
    ALL_IDS.length,
    64,
    `every 0-9-1 method (RabbitMQ extensions included) is defined (${ALL_IDS.length})`,
  );
  fc.assert(
    fc.property(anyMethod, fc.integer({ min: 0, max: 65535 }), ({ name, args }, channel) => {
      const bytes = encodeMethod(channel, name, args);
      const frames: Frame[] = [];
      new FrameDecoder(1 << 20).push(bytes, (f) => frames.push(f));
      assert.equal(frames.length, 1);
      assert.equal(frames[0]!.channel, channel);
      const m = decodeMethod(frames[0]!.payload);
      assert.equal(m.name, name);
      assert.deepEqual(plain(m.args), plain(args));
    }),
    { numRuns: 1000 },
  );
});

const properties: fc.Arbitrary<BasicProperties> = fc.record(
  {
    contentType: shortstr,
    contentEncoding: shortstr,
    headers: fieldTable,
    deliveryMode: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: shortstr,
    replyTo: shortstr,
    expiration: shortstr,
    messageId: shortstr,
    timestamp: fc.maxSafeNat(),
    type: shortstr,
    userId: shortstr,
    appId: shortstr,
    clusterId: shortstr,
  },
  { requiredKeys: [] },
);

test("content properties round-trip, each present or absent", { timeout: 30_000 }, () => {
  fc.assert(
    fc.property(properties, (p) => {
      const back = readProperties(new Reader(encodeProperties(p)));
      assert.deepEqual(plain(back), plain(p));
    }),
    { numRuns: 500 },
  );
});

test("the frame decoder yields the same frames however the bytes are chunked", { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(
      fc.array(anyMethod, { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
      (methods, cuts) => {
        const stream = Buffer.concat(methods.map((m, i) => encodeMethod(i, m.name, m.args)));
        const frames: Frame[] = [];
        const d = new FrameDecoder(1 << 20);
        let off = 0;
        let k = 0;
        while (off < stream.length) {
          const n = cuts[k++ % cuts.length]!;
          d.push(stream.subarray(off, off + n), (f) =>
            frames.push({ ...f, payload: Buffer.from(f.payload) }),
          );
          off += n;
        }
        assert.deepEqual(
          frames.map((f) => decodeMethod(f.payload).name),
          methods.map((m) => m.name),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test("a delivery split at every byte boundary decodes to the same frames", { timeout: 30_000 }, () => {
  const body = Buffer.from("x".repeat(5000));
  const bytes = encodeContent(
    3,
    {
      methodId: 60,
      consumerTag: "ctag",
      deliveryTag: 2 ** 40 + 7,
      redelivered: true,
      exchange: "amq.topic",
      routingKey: "a.b",
    },
    encodeProperties({ contentType: "text/plain", headers: { n: 1 } }),
    body,
    4096,
  );
  const whole: Frame[] = [];
  new FrameDecoder(4096).push(bytes, (f) => whole.push({ ...f, payload: Buffer.from(f.payload) }));
  assert.equal(whole.length, 4, "method, header, two body frames");
  const m = decodeMethod(whole[0]!.payload);
  assert.equal(m.name, "basic.deliver");
  assert.deepEqual(plain(m.args), {
    consumerTag: "ctag",
    deliveryTag: 2 ** 40 + 7,
    redelivered: true,
    exchange: "amq.topic",
    routingKey: "a.b",
  });
  assert.deepEqual(Buffer.concat([whole[2]!.payload, whole[3]!.payload]), body);
  for (let cut = 1; cut < bytes.length; cut++) {
    const frames: Frame[] = [];
    const d = new FrameDecoder(4096);
    d.push(bytes.subarray(0, cut), (f) => frames.push({ ...f, payload: Buffer.from(f.payload) }));
    d.push(bytes.subarray(cut), (f) => frames.push({ ...f, payload: Buffer.from(f.payload) }));
    assert.deepEqual(frames, whole);
  }
});

test("decoder errors: frame-end, size, type (501); unknown method (503); bad table type (502)", () => {
  const code = (fn: () => void): number => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof AmqpError);
      return err.code;
    }
    return 0;
  };
  const ok = encodeMethod(1, "basic.qos", { prefetchCount: 5 });
  const badEnd = Buffer.from(ok);
  badEnd[badEnd.length - 1] = 0;
  assert.equal(
    code(() => new FrameDecoder(4096).push(badEnd, () => {})),
    ReplyCode.FrameError,
  );
  assert.equal(
    code(() => new FrameDecoder(16).push(ok, () => {})),
    ReplyCode.FrameError,
  );
  const badType = Buffer.from(ok);
  badType[0] = 9;
  assert.equal(
    code(() => new FrameDecoder(4096).push(badType, () => {})),
    ReplyCode.FrameError,
  );
  const unknown = Buffer.from([0, 99, 0, 1]);
  assert.equal(
    code(() => decodeMethod(unknown)),
    ReplyCode.CommandInvalid,
  );
  const table = Buffer.from([0, 0, 0, 3, 1, 0x61, 0x3f]); // key "a", type '?'
  assert.equal(
    code(() => new Reader(table).table()),
    ReplyCode.SyntaxError,
  );
  assert.equal(
    code(() => decodeMethod(ok.subarray(7, 12))),
    ReplyCode.FrameError,
  );
});
