/** Shared topic test data: spec examples and fast-check generators over a small alphabet of levels. */
import fc from "fast-check";

const LEVELS = ["", "a", "b", "$x", "$SYS"];

/** A topic name: 1 to 4 levels from a small alphabet, incl. empty and "$" levels; never "". */
export const topicArb = fc
  .array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 4 })
  .map((l) => l.join("/"))
  .filter((t) => t.length > 0);

/** A valid topic filter: levels or "+", optionally ending with "#"; never "". */
export const filterArb = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS, "+"), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((f) => f.length > 0);

/** Spec examples, MQTT 3.1.1 §4.7.1 / MQTT 5.0 §4.7.1 and §4.7.2: [filter, topic, matches]. */
export const SPEC_EXAMPLES: Array<[string, string, boolean]> = [
  ["sport/tennis/player1/#", "sport/tennis/player1", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
  ["sport/#", "sport", true],
  ["#", "sport/tennis", true],
  ["#", "/", true],
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/tennis/+", "sport/tennis/player2", true],
  ["sport/tennis/+", "sport/tennis/player1/ranking", false],
  ["sport/+", "sport", false],
  ["sport/+", "sport/", true],
  ["+/+", "/finance", true],
  ["/+", "/finance", true],
  ["+", "/finance", false],
  ["+/tennis/#", "sport/tennis/player1", true],
  ["+/#", "a", true],
  ["a//b", "a//b", true],
  ["a/+/b", "a//b", true],
  ["a/b", "a/b/c", false],
  ["a/b/c", "a/b", false],
  ["A/b", "a/b", false],
  // [MQTT-4.7.2-1] "$" topics and leading wildcards
  ["#", "$SYS/x", false],
  ["+/monitor/Clients", "$SYS/monitor/Clients", false],
  ["$SYS/#", "$SYS/x", true],
  ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
  ["$SYS/#", "$SYS", true],
  ["+", "$x", false],
  ["a/+", "a/$x", true],
  ["a/#", "a/$x/y", true],
];
