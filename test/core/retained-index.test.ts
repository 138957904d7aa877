import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RetainedIndex } from "../../src/core/retained-index.js";
import { topicMatches } from "../../src/core/topic.js";
import { filterArb, SPEC_EXAMPLES, topicArb } from "./topic-fixtures.js";

function matched<T>(index: RetainedIndex<T>, filter: string): string[] {
  const out: string[] = [];
  index.match(filter, (topic) => out.push(topic));
  return out.sort();
}

test("RetainedIndex.match: MQTT §4.7 spec examples, incl. $ topics [MQTT-4.7.2-1]", () => {
  for (const [filter, topic, expected] of SPEC_EXAMPLES) {
    const index = new RetainedIndex<string>();
    index.set(topic, "v");
    assert.deepEqual(matched(index, filter), expected ? [topic] : [], `${filter} vs ${topic}`);
  }
});

test("RetainedIndex.match: '#' does not return $SYS topics [MQTT-4.7.2-1], '$SYS/#' does", () => {
  const index = new RetainedIndex<number>();
  for (const t of ["$SYS/x", "$SYS", "a", "a/b", "/a", "a/$SYS"]) index.set(t, 1);
  assert.deepEqual(matched(index, "#"), ["/a", "a", "a/$SYS", "a/b"]);
  assert.deepEqual(matched(index, "+"), ["a"]);
  assert.deepEqual(matched(index, "$SYS/#"), ["$SYS", "$SYS/x"]);
  assert.deepEqual(matched(index, "a/#"), ["a", "a/$SYS", "a/b"]);
  assert.deepEqual(matched(index, "+/+"), ["/a", "a/$SYS", "a/b"]);
});

test("RetainedIndex.match: filter walks only reachable branches", () => {
  const index = new RetainedIndex<number>();
  for (let i = 0; i < 100; i++) {
    index.set(`sensors/${i}/temp`, i);
    index.set(`sensors/${i}/humidity`, i);
  }
  index.set("sensors/x/temp/extra", -1);
  const values: number[] = [];
  index.match("sensors/+/temp", (topic, value) => {
    assert.equal(topic, `sensors/${value}/temp`);
    values.push(value);
  });
  assert.equal(values.length, 100);
});

test("RetainedIndex: set/get/has/delete/size, last value wins", () => {
  const index = new RetainedIndex<string>();
  index.set("a/b", "1");
  index.set("a/b", "2");
  index.set("a", "3");
  assert.equal(index.size, 2);
  assert.equal(index.get("a/b"), "2");
  assert.equal(index.has("a"), true);
  assert.equal(index.get("a/c"), undefined);
  assert.equal(index.delete("a/c"), false);
  assert.equal(index.delete("a"), true);
  assert.equal(index.delete("a"), false);
  assert.equal(index.get("a/b"), "2");
  assert.deepEqual(matched(index, "a/#"), ["a/b"]);
  assert.deepEqual([...index.entries()], [["a/b", "2"]]);
});

test("RetainedIndex: prunes every node after deleting everything", () => {
  const index = new RetainedIndex<number>();
  const topics = ["a/b/c", "a/b", "a", "/", "//", "a//b", "$SYS/x", "x/y/z/w"];
  for (const [i, t] of topics.entries()) index.set(t, i);
  assert.deepEqual(
    [...index.entries()],
    topics.map((t, i) => [t, i]),
  );
  for (const t of topics) assert.equal(index.delete(t), true);
  assert.equal(index.size, 0);
  assert.equal((index as unknown as { root: { children?: unknown } }).root.children, undefined);
});

test("RetainedIndex.match: visit may delete entries", () => {
  const index = new RetainedIndex<number>();
  for (const t of ["a/1", "a/2", "a/3"]) index.set(t, 0);
  const seen: string[] = [];
  index.match("a/+", (topic) => {
    seen.push(topic);
    index.delete(topic);
  });
  assert.equal(seen.length, 3);
  assert.equal(index.size, 0);
});

test("RetainedIndex: very deep topics, no recursion", () => {
  const index = new RetainedIndex<number>();
  const deep = Array.from({ length: 100_000 }, () => "x").join("/");
  index.set(deep, 1);
  assert.deepEqual(matched(index, "#"), [deep]);
  assert.deepEqual(matched(index, `${deep}/#`), [deep]);
  assert.equal(index.delete(deep), true);
  assert.equal((index as unknown as { root: { children?: unknown } }).root.children, undefined);
});

test("RetainedIndex.match agrees with topicMatches (property, incl. $ rule [MQTT-4.7.2-1])", () => {
  fc.assert(
    fc.property(
      fc.array(topicArb, { maxLength: 30 }),
      fc.array(filterArb, { maxLength: 10 }),
      (topics, filters) => {
        const index = new RetainedIndex<string>();
        for (const t of topics) index.set(t, t);
        const stored = [...new Set(topics)];
        for (const filter of filters) {
          const got: string[] = [];
          index.match(filter, (topic, value) => {
            assert.equal(value, topic);
            got.push(topic);
          });
          assert.deepEqual(got.sort(), stored.filter((t) => topicMatches(filter, t)).sort(), filter);
        }
        for (const t of stored) index.delete(t);
        assert.equal(index.size, 0);
        assert.equal((index as unknown as { root: { children?: unknown } }).root.children, undefined);
      },
    ),
    { numRuns: 500 },
  );
});
