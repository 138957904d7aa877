/** The core metadata conversions (src/core/metadata.ts, docs/metadata.md). */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  correlationIdToBytes,
  correlationIdToText,
  expiresAtFromMs,
  expiresAtFromSeconds,
  msLeft,
  secondsLeft,
} from "../../src/core/metadata.js";

test("expiry: seconds and ms from now <-> expiresAt; what is left rounds up and never goes negative", () => {
  assert.equal(expiresAtFromSeconds(60, 1000), 61_000);
  assert.equal(expiresAtFromMs(1500, 1000), 2500);
  assert.equal(secondsLeft(61_000, 1000), 60);
  assert.equal(secondsLeft(2001, 1000), 2, "1.001 s left is 2 s: never expires early downstream");
  assert.equal(secondsLeft(500, 1000), 0);
  assert.equal(msLeft(2500, 1000), 1500);
  assert.equal(msLeft(500, 1000), 0);
});

test("correlation id: text <-> bytes; non-UTF-8 bytes read as base64: text", () => {
  assert.deepEqual(correlationIdToBytes("req-ü-1"), Buffer.from("req-ü-1"));
  assert.equal(correlationIdToText(Buffer.from("req-ü-1")), "req-ü-1");
  assert.equal(correlationIdToText(Buffer.from([0xff, 0x00, 0x01])), "base64:/wAB");
  assert.notEqual(correlationIdToText(Buffer.from([0xff])), correlationIdToText(Buffer.from([0xfe])));
});

test("correlation id: base64: text written for non-UTF-8 bytes turns back into those bytes; other text stays text", () => {
  assert.deepEqual(correlationIdToBytes("base64:/wAB"), Buffer.from([0xff, 0x00, 0x01]));
  // Base64 of UTF-8 text is never what correlationIdToText writes: it stays text.
  assert.deepEqual(correlationIdToBytes("base64:aGk="), Buffer.from("base64:aGk="));
  // Not canonical Base64 (missing padding, other alphabet, junk): text.
  for (const t of ["base64:/wAB=", "base64:_wAB", "base64:!!", "base64:", "base64"])
    assert.deepEqual(correlationIdToBytes(t), Buffer.from(t), t);
});

test("correlation id: bytes -> text -> bytes and text -> bytes -> text are lossless", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
      const bytes = Buffer.from(a);
      assert.deepEqual(correlationIdToBytes(correlationIdToText(bytes)), bytes);
    }),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((x) => `base64:${x}`),
      ),
      (text) => {
        assert.equal(correlationIdToText(correlationIdToBytes(text)), text);
      },
    ),
  );
});
