import assert from "node:assert/strict";
import { test } from "node:test";
import {
  filterCovers,
  filterMatches,
  filtersOverlap,
  invalidFilter,
} from "../../../src/core/auth/topic-filter.js";

const s = (f: string) => f.split("/");
const covers = (outer: string, inner: string) => filterCovers(s(outer), s(inner));
const matches = (filter: string, topic: string) => filterMatches(s(filter), s(topic));
const overlap = (a: string, b: string) => filtersOverlap(s(a), s(b));

test("filter validity", () => {
  assert.equal(invalidFilter(s("a/+/#")), undefined);
  assert.ok(invalidFilter(s("a/#/b")));
  assert.ok(invalidFilter(s("a/b+")));
  assert.ok(invalidFilter(s("a#")));
});

test("filterMatches: + one level, # the rest including the parent, $ topics need a literal first level", () => {
  assert.equal(matches("sensors/#", "sensors/a/b"), true);
  assert.equal(matches("sensors/#", "sensors"), true);
  assert.equal(matches("sensors/+", "sensors/a"), true);
  assert.equal(matches("sensors/+", "sensors/a/b"), false);
  assert.equal(matches("sensors/+", "sensors"), false);
  assert.equal(matches("+/+", "/x"), true);
  assert.equal(matches("a/b", "a/b"), true);
  assert.equal(matches("a/b", "a/b/c"), false);
  assert.equal(matches("#", "$SYS/uptime"), false);
  assert.equal(matches("+/uptime", "$SYS/uptime"), false);
  assert.equal(matches("$SYS/#", "$SYS/uptime"), true);
});

test("filterCovers: every topic the inner filter matches is matched by the outer one", () => {
  const yes: Array<[string, string]> = [
    ["sensors/#", "sensors/+/temp"],
    ["sensors/#", "sensors/#"],
    ["sensors/#", "sensors"],
    ["sensors/#", "sensors/a/#"],
    ["sensors/+/temp", "sensors/kitchen/temp"],
    ["sensors/+/temp", "sensors/+/temp"],
    ["#", "#"],
    ["#", "+/x"],
    ["#", "a/b"],
    ["+", "+"],
    ["a/b", "a/b"],
    ["$SYS/#", "$SYS/+/x"],
  ];
  const no: Array<[string, string]> = [
    ["sensors/#", "#"],
    ["sensors/#", "+/temp"],
    ["sensors/+/temp", "sensors/#"],
    ["sensors/+/temp", "sensors/+/+"],
    ["sensors/+", "sensors/+/temp"],
    ["sensors/+", "sensors"],
    ["sensors/kitchen/temp", "sensors/+/temp"],
    ["a/+", "a/#"],
    ["a/b", "a/b/c"],
    ["a/b/c", "a/b"],
    ["#", "$SYS/#"],
    ["+/#", "$SYS/x"],
    ["$SYS/#", "#"],
  ];
  for (const [o, i] of yes) assert.equal(covers(o, i), true, `${o} covers ${i}`);
  for (const [o, i] of no) assert.equal(covers(o, i), false, `${o} does not cover ${i}`);
});

test("filterCovers agrees with filterMatches on sample topics", () => {
  const filters = ["#", "+", "a", "a/#", "a/+", "a/b", "+/b", "a/+/c", "+/+/#", "a/b/#", "$SYS/#", "$SYS/+"];
  const topics = [
    "a",
    "b",
    "a/b",
    "a/c",
    "b/b",
    "a/b/c",
    "a/x/c",
    "a/b/c/d",
    "$SYS/x",
    "$SYS/x/y",
    "/b",
    "a/",
  ];
  for (const outer of filters) {
    for (const inner of filters) {
      if (!covers(outer, inner)) continue;
      for (const t of topics) {
        if (matches(inner, t)) assert.equal(matches(outer, t), true, `${outer} ⊇ ${inner} but misses ${t}`);
      }
    }
  }
});

test("filtersOverlap: some topic matches both", () => {
  assert.equal(overlap("sensors/secret/#", "sensors/#"), true);
  assert.equal(overlap("sensors/secret/#", "#"), true);
  assert.equal(overlap("a/+", "+/b"), true);
  assert.equal(overlap("a/#", "a"), true);
  assert.equal(overlap("a/+", "a"), false);
  assert.equal(overlap("a/b", "a/c"), false);
  assert.equal(overlap("#", "$SYS/#"), false);
  assert.equal(overlap("$SYS/#", "$SYS/+"), true);
});
