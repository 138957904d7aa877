import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { topicMatches } from "../../src/core/topic.js";
import { TopicTree } from "../../src/core/topic-tree.js";
import { filterArb, SPEC_EXAMPLES, topicArb } from "./topic-fixtures.js";

function matches<T>(tree: TopicTree<T>, topic: string): Array<[T, string]> {
  const out: Array<[T, string]> = [];
  tree.match(topic, (value, filter) => out.push([value, filter]));
  return out;
}

function sorted(pairs: Array<[string, string]>): string[] {
  return pairs.map(([v, f]) => `${v}@${f}`).sort();
}

test("TopicTree.match: MQTT §4.7 spec examples, incl. $ topics [MQTT-4.7.2-1]", () => {
  for (const [filter, topic, expected] of SPEC_EXAMPLES) {
    const tree = new TopicTree<string>();
    tree.add(filter, "v");
    assert.deepEqual(matches(tree, topic), expected ? [["v", filter]] : [], `${filter} vs ${topic}`);
  }
});

test("TopicTree.match: all matching filters, each pair once", () => {
  const tree = new TopicTree<string>();
  const filters = ["#", "+/+", "/+", "+", "/finance", "/#", "+/#", "/finance/#", "a/#", "/+/#"];
  for (const f of filters) tree.add(f, "s1");
  tree.add("/finance", "s2");
  tree.add("#", "s2");
  const expected = filters.filter((f) => topicMatches(f, "/finance")).map((f) => `s1@${f}`);
  expected.push("s2@/finance", "s2@#");
  assert.deepEqual(sorted(matches(tree, "/finance")), expected.sort());
});

test("TopicTree: '#' matches the parent level [MQTT-4.7.1-2], '+' does not", () => {
  const tree = new TopicTree<number>();
  tree.add("sport/#", 1);
  tree.add("sport/+", 2);
  assert.deepEqual(matches(tree, "sport"), [[1, "sport/#"]]);
  assert.deepEqual(
    matches(tree, "sport/").sort((a, b) => a[0] - b[0]),
    [
      [1, "sport/#"],
      [2, "sport/+"],
    ],
  );
});

test("TopicTree.add/remove/has: dedupe, size, filterCount", () => {
  const tree = new TopicTree<string>();
  assert.equal(tree.add("a/b", "x"), true);
  assert.equal(tree.add("a/b", "x"), false);
  assert.equal(tree.add("a/b", "y"), true);
  assert.equal(tree.add("a/+", "x"), true);
  assert.equal(tree.size, 3);
  assert.equal(tree.filterCount, 2);
  assert.equal(tree.has("a/b", "x"), true);
  assert.equal(tree.has("a/b", "z"), false);
  assert.equal(tree.has("a", "x"), false);
  assert.equal(tree.has("a/#", "x"), false);
  assert.equal(tree.remove("a/b", "z"), false);
  assert.equal(tree.remove("a/c", "x"), false);
  assert.equal(tree.remove("a/b", "x"), true);
  assert.equal(tree.remove("a/b", "x"), false);
  assert.equal(tree.size, 2);
  assert.equal(tree.filterCount, 2);
  assert.deepEqual(
    matches(tree, "a/b")
      .map(([v]) => v)
      .sort(),
    ["x", "y"],
  );
  assert.equal(tree.remove("a/b", "y"), true);
  assert.equal(tree.filterCount, 1);
  assert.deepEqual(matches(tree, "a/b"), [["x", "a/+"]]);
});

test("TopicTree.add: rejects invalid filters", () => {
  const tree = new TopicTree<number>();
  for (const f of ["", "a/#/b", "a+", "#a"]) assert.throws(() => tree.add(f, 1), RangeError, f);
  assert.equal(tree.size, 0);
});

test("TopicTree: prunes every node after removing everything", () => {
  const tree = new TopicTree<number>();
  const filters = ["a/b/c", "a/b", "a/+/c", "a/#", "#", "+", "/", "//", "a//b", "$SYS/#", "+/+/+/+"];
  for (let v = 0; v < 3; v++) for (const f of filters) tree.add(f, v);
  assert.equal(tree.size, filters.length * 3);
  for (let v = 0; v < 3; v++) for (const f of [...filters].reverse()) assert.equal(tree.remove(f, v), true);
  assert.equal(tree.size, 0);
  assert.equal(tree.filterCount, 0);
  const root = (tree as unknown as { root: Record<string, unknown> }).root;
  assert.equal(root.children, undefined);
  assert.equal(root.plus, undefined);
  assert.equal(root.hash, undefined);
});

test("TopicTree: large fan-out on one filter (indexed values), add/remove in any order", () => {
  const tree = new TopicTree<number>();
  const n = 1000;
  for (let i = 0; i < n; i++) assert.equal(tree.add("alerts/#", i), true);
  for (let i = 0; i < n; i++) assert.equal(tree.add("alerts/#", i), false);
  for (let i = 0; i < n; i += 2) assert.equal(tree.remove("alerts/#", i), true);
  for (let i = 0; i < n; i++) assert.equal(tree.has("alerts/#", i), i % 2 === 1);
  const seen = matches(tree, "alerts/x").map(([v]) => v);
  assert.equal(seen.length, n / 2);
  assert.equal(new Set(seen).size, n / 2);
  for (let i = 1; i < n; i += 2) assert.equal(tree.remove("alerts/#", i), true);
  assert.equal(tree.size, 0);
});

test("TopicTree.match: very deep topics and filters, no recursion", () => {
  const tree = new TopicTree<number>();
  const depth = 30_000; // within the 65535-byte limit even as "+/+/..."
  const deep = "/".repeat(depth - 1); // `depth` empty levels
  tree.add(deep, 1);
  tree.add(Array.from({ length: depth }, () => "+").join("/"), 2);
  tree.add(`${deep}/#`, 3);
  assert.deepEqual(
    matches(tree, deep)
      .map(([v]) => v)
      .sort(),
    [1, 2, 3],
  );
  assert.equal(tree.remove(deep, 1), true);
  assert.equal(tree.remove(`${deep}/#`, 3), true);
  assert.deepEqual(
    matches(tree, deep).map(([v]) => v),
    [2],
  );
  assert.equal(tree.remove(Array.from({ length: depth }, () => "+").join("/"), 2), true);
  assert.equal(tree.size, 0);
});

test("TopicTree.match: visit may remove, add and match re-entrantly", () => {
  const tree = new TopicTree<string>();
  for (const v of ["a", "b", "c", "d"]) tree.add("t/#", v);
  tree.add("t/x", "e");
  const seen: string[] = [];
  tree.match("t/x", (value) => {
    seen.push(value);
    if (value === "a") {
      tree.remove("t/#", "b");
      tree.remove("t/x", "e");
      tree.add("t/#", "z");
      const nested: string[] = [];
      tree.match("t/y", (v) => nested.push(v));
      assert.deepEqual(nested.sort(), ["a", "c", "d", "z"]);
    }
  });
  // The running match saw the values present when it reached each filter.
  assert.deepEqual(seen.sort(), ["a", "b", "c", "d"].concat(seen.includes("e") ? ["e"] : []).sort());
  assert.deepEqual(
    matches(tree, "t/x")
      .map(([v]) => v)
      .sort(),
    ["a", "c", "d", "z"],
  );
});

test("TopicTree.match agrees with topicMatches (property, incl. $ rule [MQTT-4.7.2-1])", () => {
  fc.assert(
    fc.property(
      fc.array(filterArb, { maxLength: 30 }),
      fc.array(topicArb, { maxLength: 10 }),
      (filters, topics) => {
        const tree = new TopicTree<number>();
        for (const [i, f] of filters.entries()) tree.add(f, i % 3);
        for (const topic of topics) {
          const expected = new Set<string>();
          filters.forEach((f, i) => {
            if (topicMatches(f, topic)) expected.add(`${i % 3}@${f}`);
          });
          const got = sorted(matches(tree, topic).map(([v, f]) => [String(v), f]));
          assert.deepEqual(got, [...expected].sort(), topic);
        }
        // removing everything leaves an empty tree
        for (const [i, f] of filters.entries()) tree.remove(f, i % 3);
        assert.equal(tree.size, 0);
        assert.equal(tree.filterCount, 0);
      },
    ),
    { numRuns: 500 },
  );
});
