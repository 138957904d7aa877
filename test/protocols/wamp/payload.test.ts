/** The payload mapping between WAMP arguments and core messages (docs/wamp.md "Payload mapping"). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createMessage } from "../../../src/core/message.js";
import {
  createWampMessage,
  decodePayload,
  encodePayload,
  WAMP_CONTENT_TYPE,
} from "../../../src/protocols/wamp/payload.js";

function roundTrip(args: unknown[] | undefined, kwargs?: Record<string, unknown>) {
  const { payload, properties } = encodePayload(args, kwargs);
  return { payload, properties, back: decodePayload(createMessage("t", payload, 0, false, properties)) };
}

test("no arguments <-> an empty payload", () => {
  const r = roundTrip(undefined);
  assert.equal(r.payload.length, 0);
  assert.deepEqual(r.back, {});
  assert.equal(roundTrip([]).payload.length, 0);
  assert.equal(roundTrip([], {}).payload.length, 0);
});

test("one string <-> UTF-8 text; one binary <-> the bytes; one other value <-> its JSON", () => {
  const s = roundTrip(["grüße ✓"]);
  assert.equal(s.payload.toString(), "grüße ✓");
  assert.equal(s.properties.payloadIsUtf8, true);
  assert.deepEqual(s.back, { args: ["grüße ✓"] });
  const bytes = Buffer.from([0xff, 0xfe, 0]);
  const b = roundTrip([bytes]);
  assert.equal(b.payload, bytes, "no copy");
  assert.deepEqual(b.back, { args: [bytes] });
  for (const v of [42, 1.5, true, null, [1, "a"], { a: { b: [null] } }]) {
    const j = roundTrip([v]);
    assert.equal(j.properties.contentType, "application/json");
    assert.equal(j.payload.toString(), JSON.stringify(v));
    assert.deepEqual(j.back, { args: [v] });
  }
});

test("several arguments or keyword arguments <-> application/x-wamp+json [args, kwargs], binary by JSON's rule", () => {
  const r = roundTrip([1, Buffer.from([9])], { k: "v", bin: Buffer.from("x") });
  assert.equal(r.properties.contentType, WAMP_CONTENT_TYPE);
  assert.equal(r.payload.toString(), '[[1,"\\u0000CQ=="],{"k":"v","bin":"\\u0000eA=="}]');
  assert.deepEqual(r.back, { args: [1, Buffer.from([9])], kwargs: { k: "v", bin: Buffer.from("x") } });
  assert.deepEqual(roundTrip(undefined, { only: 1 }).back, { args: [], kwargs: { only: 1 } });
});

test("messages from other protocols: JSON content types are decoded, other UTF-8 is text, the rest is bytes", () => {
  const m = (payload: string | Buffer, contentType?: string) =>
    decodePayload(createMessage("t", Buffer.from(payload), 0, false, contentType ? { contentType } : {}));
  assert.deepEqual(m('{"a":1}', "application/json"), { args: [{ a: 1 }] });
  assert.deepEqual(m('{"a":1}', "application/vnd.x+json"), { args: [{ a: 1 }] });
  assert.deepEqual(m('{"a":1}'), { args: ['{"a":1}'] }, "no content type: text");
  assert.deepEqual(m("not json", "application/json"), { args: ["not json"] }, "invalid JSON: text");
  assert.deepEqual(m("[1]", WAMP_CONTENT_TYPE), { args: ["[1]"] }, "not [args, kwargs]: text");
  assert.deepEqual(m(Buffer.from([0xc3, 0x28])), { args: [Buffer.from([0xc3, 0x28])] });
});

test("a WAMP-published message makes its JSON only when the payload is read, and then the same bytes", () => {
  const m = createWampMessage("t", [1, { a: 2 }], { k: true }, false, "pub");
  assert.equal(m.properties.contentType, WAMP_CONTENT_TYPE);
  assert.equal(m.payload.toString(), '[[1,{"a":2}],{"k":true}]');
  assert.equal(m.payload, m.payload, "encoded once");
  const retained = createWampMessage("t", [42], undefined, true, "pub");
  assert.equal(
    { ...retained }.payload.toString(),
    "42",
    "retained messages are plain objects (stores spread them)",
  );
  assert.equal(createWampMessage("t", ["s"], undefined, false, "pub").properties.payloadIsUtf8, true);
});
