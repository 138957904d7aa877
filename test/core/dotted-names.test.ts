import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { dottedToFilter, dottedToTopic, topicToDotted } from "../../src/core/dotted-names.js";

test("dotted names: separators swap both ways (RabbitMQ convention)", () => {
  assert.equal(dottedToTopic("a.b.c"), "a/b/c");
  assert.equal(topicToDotted("a/b/c"), "a.b.c");
  assert.equal(topicToDotted("a/b.c"), "a.b/c");
  assert.equal(dottedToTopic("a.b/c"), "a/b.c");
  assert.equal(dottedToTopic("plain"), "plain");
});

test("dotted names: the mapping is its own inverse for every string", () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      assert.equal(dottedToTopic(topicToDotted(s)), s);
      assert.equal(topicToDotted(dottedToTopic(s)), s);
    }),
  );
});

test("dotted binding keys: * and trailing # become + and #; others are refused", () => {
  assert.equal(dottedToFilter("sensors.*.temp"), "sensors/+/temp");
  assert.equal(dottedToFilter("a.#"), "a/#");
  assert.equal(dottedToFilter("#"), "#");
  assert.equal(dottedToFilter("a.b/c"), "a/b.c");
  assert.equal(dottedToFilter("a.#.b"), undefined);
  assert.equal(dottedToFilter("a.b*"), undefined);
  assert.equal(dottedToFilter("a.b+"), undefined);
});
