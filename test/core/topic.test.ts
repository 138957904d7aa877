import assert from "node:assert/strict";
import { test } from "node:test";
import {
  exceedsLevels,
  isSharedFilter,
  parseSharedFilter,
  topicMatches,
  validateSharedFilter,
  validateTopicFilter,
  validateTopicName,
} from "../../src/core/topic.js";
import { SPEC_EXAMPLES } from "./topic-fixtures.js";

const MAX = 32;

test("topicMatches: MQTT §4.7 spec examples", () => {
  for (const [filter, topic, expected] of SPEC_EXAMPLES) {
    assert.equal(topicMatches(filter, topic), expected, `${filter} vs ${topic}`);
  }
});

test("validateTopicName: valid names incl. empty levels [MQTT-4.7.1-1]", () => {
  for (const t of ["a", "/", "a//b", "/a", "a/", "$SYS/x", "ü/€/😀", "a b"]) {
    assert.equal(validateTopicName(t, MAX), undefined, t);
  }
});

test("validateTopicName: rejects empty [MQTT-4.7.3-1], wildcards [MQTT-3.3.2-2], U+0000 [MQTT-4.7.3-2]", () => {
  for (const t of ["", "a/+", "#", "a/b#", "a+", "a\u0000b"]) {
    assert.equal(typeof validateTopicName(t, MAX), "string", JSON.stringify(t));
  }
});

test("validateTopicName: level limit", () => {
  assert.equal(validateTopicName("a/b/c", 3), undefined);
  assert.match(validateTopicName("a/b/c/d", 3) ?? "", /levels/);
  assert.match(validateTopicName("////", 4) ?? "", /levels/);
  assert.equal(validateTopicName("/".repeat(10_000), 10_001), undefined);
});

test("validateTopicName: at most 65535 bytes of UTF-8 [MQTT-4.7.3-3]", () => {
  assert.equal(validateTopicName("a".repeat(65535), MAX), undefined);
  assert.match(validateTopicName("a".repeat(65536), MAX) ?? "", /65535/);
  // 21846 three-byte characters = 65538 bytes
  assert.match(validateTopicName("€".repeat(21846), MAX) ?? "", /65535/);
  assert.equal(validateTopicName("€".repeat(21845), MAX), undefined);
});

test("validateTopicName: lone surrogates have no UTF-8 form [MQTT-1.5.4-1]", () => {
  assert.equal(typeof validateTopicName("a\ud800", MAX), "string");
  assert.equal(typeof validateTopicName("\udc00b", MAX), "string");
  assert.equal(typeof validateTopicName("\ud800\ud800", MAX), "string");
  assert.equal(validateTopicName("\ud83d\ude00", MAX), undefined);
});

test("validateTopicFilter: valid filters [MQTT-4.7.1-2] [MQTT-4.7.1-3]", () => {
  for (const f of [
    "#",
    "+",
    "+/+",
    "/+",
    "a/#",
    "+/#",
    "a/+/b",
    "a//#",
    "$SYS/#",
    "a",
    "/",
    "//",
    "$share/g/x",
  ]) {
    assert.equal(validateTopicFilter(f, MAX), undefined, f);
  }
});

test("validateTopicFilter: '#' only as the whole last level [MQTT-4.7.1-2]", () => {
  for (const f of ["a#", "#a", "a/#/b", "#/", "a/b#", "##", "a/#/"]) {
    assert.match(validateTopicFilter(f, MAX) ?? "", /MQTT-4.7.1-2/, f);
  }
});

test("validateTopicFilter: '+' only as a whole level [MQTT-4.7.1-3]", () => {
  for (const f of ["a+", "+a", "a/b+/c", "++", "sport+"]) {
    assert.match(validateTopicFilter(f, MAX) ?? "", /MQTT-4.7.1-3/, f);
  }
});

test("validateTopicFilter: empty [MQTT-4.7.3-1], U+0000 [MQTT-4.7.3-2], level limit", () => {
  assert.match(validateTopicFilter("", MAX) ?? "", /MQTT-4.7.3-1/);
  assert.match(validateTopicFilter("a/\u0000", MAX) ?? "", /MQTT-4.7.3-2/);
  assert.equal(validateTopicFilter("+/+/#", 3), undefined);
  assert.match(validateTopicFilter("+/+/+/#", 3) ?? "", /levels/);
});

test("isSharedFilter / parseSharedFilter: $share/<group>/<filter> [MQTT-4.8.2-1]", () => {
  assert.equal(isSharedFilter("$share/g/a/b"), true);
  assert.equal(isSharedFilter("$share"), false);
  assert.equal(isSharedFilter("$SHARE/g/a"), false);
  assert.equal(isSharedFilter("a/$share/g"), false);
  assert.deepEqual(parseSharedFilter("$share/g/a/+/#"), { group: "g", filter: "a/+/#" });
  assert.deepEqual(parseSharedFilter("$share/g//"), { group: "g", filter: "/" });
  assert.deepEqual(parseSharedFilter("$share/g/#"), { group: "g", filter: "#" });
  assert.deepEqual(parseSharedFilter("$share/g/$SYS/x"), { group: "g", filter: "$SYS/x" });
  assert.equal(parseSharedFilter("a/b"), undefined);
  assert.equal(parseSharedFilter("$share"), undefined);
});

test("validateSharedFilter: invalid share filters are invalid, not non-shared [MQTT-4.8.2-1] [MQTT-4.8.2-2]", () => {
  const invalid = [
    "$share/",
    "$share/g",
    "$share/g/",
    "$share//x",
    "$share/g+/x",
    "$share/#/x",
    "$share/g/a#",
    "$share/g/a/#/b",
  ];
  for (const f of invalid) {
    assert.equal(isSharedFilter(f), true, f);
    assert.equal(typeof validateSharedFilter(f, MAX), "string", f);
    assert.throws(() => parseSharedFilter(f), RangeError, f);
  }
  assert.match(validateSharedFilter("$share/g+/x", MAX) ?? "", /MQTT-4.8.2-2/);
  assert.match(validateSharedFilter("$share//x", MAX) ?? "", /MQTT-4.8.2-1/);
  assert.equal(validateSharedFilter("$share/g/a/b", MAX), undefined);
  assert.equal(typeof validateSharedFilter("a/b", MAX), "string");
  // the level limit applies to the inner filter
  assert.equal(validateSharedFilter("$share/g/a/b", 2), undefined);
  assert.match(validateSharedFilter("$share/g/a/b/c", 2) ?? "", /levels/);
});

test("exceedsLevels counts levels like validateTopicName's limit", () => {
  assert.equal(exceedsLevels("a", 1), false);
  assert.equal(exceedsLevels("a/b", 1), true);
  assert.equal(exceedsLevels("a/b/c", 3), false);
  assert.equal(exceedsLevels("a/b/c/d", 3), true);
  assert.equal(exceedsLevels("/", 2), false);
  assert.equal(exceedsLevels("//", 2), true);
  for (const t of ["x", "a/b", "a//b/", "/a/b/c/d/e"]) {
    for (let max = 1; max <= 6; max++) {
      assert.equal(exceedsLevels(t, max), validateTopicName(t, max) !== undefined, `${t} with ${max}`);
    }
  }
});
