/** The core RPC payload mapping (src/core/rpc-payload.ts, docs/rpc.md "Payload mapping"). */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeRpcPayload,
  encodeRpcError,
  encodeRpcPayload,
  RPC_ARGS_CONTENT_TYPE,
  RPC_ERROR_HEADER,
  rpcErrorJson,
  rpcErrorOf,
} from "../../src/core/rpc-payload.js";

test("each shape of arguments round-trips through bytes and properties", () => {
  const cases = [
    {},
    { args: ["text"] },
    { args: [Buffer.from([0, 1, 255])] },
    { args: [42] },
    { args: [{ a: [1, null] }] },
    { args: [1, 2] },
    { args: [], kwargs: { k: "v" } },
    { args: [Buffer.from([7])], kwargs: { bin: Buffer.from([0]) } },
  ];
  for (const c of cases) {
    const { payload, properties } = encodeRpcPayload(c);
    assert.deepEqual(decodeRpcPayload(payload, properties), c, JSON.stringify(c));
  }
  assert.equal(encodeRpcPayload({ args: [1, 2] }).properties.contentType, RPC_ARGS_CONTENT_TYPE);
  assert.equal(encodeRpcPayload({ args: [1] }).properties.contentType, "application/json");
});

test("an error: URI in the user property `error`, args/kwargs as the payload", () => {
  const e = encodeRpcError("com.example.oops", { args: ["bad"], kwargs: { code: 7 } });
  assert.equal(RPC_ERROR_HEADER, "error");
  assert.equal(rpcErrorOf(e.properties), "com.example.oops");
  assert.deepEqual(decodeRpcPayload(e.payload, e.properties), { args: ["bad"], kwargs: { code: 7 } });
  assert.equal(rpcErrorOf(encodeRpcPayload({ args: [1] }).properties), undefined);
  assert.equal(rpcErrorOf({ userProperties: [["x", "y"]] }), undefined);
});

test("the JSON error document (MQTT 3.1.1 convention) leaves empty parts out", () => {
  assert.deepEqual(JSON.parse(rpcErrorJson("wamp.error.timeout", {}).toString()), {
    error: "wamp.error.timeout",
  });
  assert.deepEqual(JSON.parse(rpcErrorJson("a.b", { args: [1], kwargs: { x: 2 } }).toString()), {
    error: "a.b",
    args: [1],
    kwargs: { x: 2 },
  });
});

test("bytes without a content type: UTF-8 text is a string, anything else stays bytes", () => {
  assert.deepEqual(decodeRpcPayload(Buffer.from("hi"), {}), { args: ["hi"] });
  assert.deepEqual(decodeRpcPayload(Buffer.from([0xff]), {}), { args: [Buffer.from([0xff])] });
  assert.deepEqual(decodeRpcPayload(Buffer.from("{bad"), { contentType: "application/json" }), {
    args: ["{bad"],
  });
});
