import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { createMessage, type MessageProperties } from "../../src/core/message.js";
import { compileSelector, type SelectorSubject, type Value } from "../../src/core/selector/compile.js";
import { SelectorError } from "../../src/core/selector/lexer.js";
import { MessageSubject } from "../../src/core/selector/message-subject.js";

const subject = (values: Record<string, Value>): SelectorSubject => ({
  value: (name) => (Object.hasOwn(values, name) ? values[name]! : null),
});

const matches = (sel: string, values: Record<string, Value>): boolean =>
  compileSelector(sel).matches(subject(values));

test("selector: comparisons, arithmetic and precedence", () => {
  const v = { temperature: 31, room: "lab", count: 4, ok: true };
  assert.equal(matches("temperature > 30 AND room = 'lab'", v), true);
  assert.equal(matches("temperature > 30 AND room = 'office'", v), false);
  assert.equal(matches("temperature < 30 OR room = 'lab'", v), true);
  assert.equal(matches("count * 2 + 1 = 9", v), true);
  assert.equal(matches("count + 2 * 3 = 10", v), true, "* binds tighter than +");
  assert.equal(matches("(count + 2) * 3 = 18", v), true);
  assert.equal(matches("-count = -4", v), true);
  assert.equal(matches("count / 0 = 1", v), false, "division by zero is unknown");
  assert.equal(matches("count <> 5", v), true);
  assert.equal(matches("count != 5", v), true);
  assert.equal(matches("count >= 4 AND count <= 4", v), true);
  assert.equal(matches("1.5e1 = 15", v), true);
  assert.equal(matches("ok", v), true);
  assert.equal(matches("ok = TRUE", v), true);
  assert.equal(matches("NOT ok", v), false);
  assert.equal(matches("NOT temperature > 30 OR room = 'lab'", v), true, "NOT binds tighter than OR");
  assert.equal(matches("room = 'it''s'", { room: "it's" }), true, "'' is a quote");
  assert.equal(matches("room and room", v), false, "a string is not a truth value");
});

test("selector: BETWEEN, IN, LIKE with ESCAPE, IS NULL", () => {
  const v = { t: 20, name: "sensor_12", unit: "C" };
  assert.equal(matches("t BETWEEN 10 AND 20", v), true);
  assert.equal(matches("t NOT BETWEEN 10 AND 19", v), true);
  assert.equal(matches("unit IN ('C', 'F')", v), true);
  assert.equal(matches("unit NOT IN ('C', 'F')", v), false);
  assert.equal(matches("t IN (19, 20, -1)", v), true);
  assert.equal(matches("name LIKE 'sensor%'", v), true);
  assert.equal(matches("name LIKE 'sensor__2'", v), true);
  assert.equal(matches("name LIKE 'sensor\\_%' ESCAPE '\\'", v), true);
  assert.equal(matches("name LIKE 'sensorX%' ESCAPE 'X'", v), false, "X_ is a literal underscore... then %");
  assert.equal(matches("name NOT LIKE '%.%'", v), true, "regex characters are literal");
  assert.equal(matches("missing IS NULL", v), true);
  assert.equal(matches("name IS NOT NULL", v), true);
  assert.equal(
    matches("name is not null and UNIT is null", v),
    true,
    "keywords are case-insensitive, names are not",
  );
});

test("selector: three-valued logic (UNKNOWN for absent values and type mismatches)", () => {
  const v = { a: 1, s: "x" };
  assert.equal(matches("missing > 1", v), false);
  assert.equal(matches("NOT missing > 1", v), false, "NOT UNKNOWN is UNKNOWN");
  assert.equal(matches("missing > 1 OR a = 1", v), true, "UNKNOWN OR TRUE is TRUE");
  assert.equal(matches("NOT (missing > 1 AND a = 2)", v), true, "UNKNOWN AND FALSE is FALSE");
  assert.equal(matches("s > 1", v), false, "a non-numeric string compared with a number is UNKNOWN");
  assert.equal(matches("NOT (s > 1)", v), false);
  assert.equal(matches("missing IN ('x')", v), false);
  assert.equal(matches("NOT (missing NOT IN ('x'))", v), false);
});

test("selector: numeric and boolean strings (headers are strings) compare as numbers and booleans", () => {
  assert.equal(matches("temperature > 30", { temperature: "31.5" }), true);
  assert.equal(matches("temperature + 1 = 32", { temperature: "31" }), true);
  assert.equal(matches("flag = TRUE", { flag: "true" }), true);
  assert.equal(matches("flag", { flag: "false" }), false);
  assert.equal(matches("code = '007'", { code: "007" }), true, "string with string stays a string compare");
  assert.equal(matches("code = 7", { code: "007" }), true);
});

test("selector: invalid selectors are refused with the position", () => {
  const bad: Array<[string, RegExp]> = [
    ["", /empty/],
    ["temperature >", /expected a value/],
    ["temperature + 1", /must be a condition/],
    ["a AND 3", /expected a condition/],
    ["a = 'unterminated", /unterminated string/],
    ["a # 1", /unexpected character/],
    ["a IN ()", /string or number/],
    ["a IN (b)", /string or number/],
    ["a LIKE b", /pattern string/],
    ["a LIKE 'x' ESCAPE 'ab'", /one-character/],
    ["a BETWEEN 1", /expected AND/],
    ["a IS 3", /expected NULL/],
    ["(a = 1", /expected "\)"/],
    ["a = 1 b", /end of the selector/],
    ["1abc = 1", /malformed number/],
    ["a. = 1", /malformed identifier/],
  ];
  for (const [src, re] of bad) {
    assert.throws(
      () => compileSelector(src),
      (e: unknown) => e instanceof SelectorError && re.test(e.message) && /at position \d+/.test(e.message),
      src,
    );
  }
  assert.throws(() => compileSelector(`a = '${"x".repeat(5000)}'`), SelectorError);
});

test("selector: compiled once per distinct text", () => {
  assert.equal(compileSelector("x = 1"), compileSelector("x = 1"));
});

test("selector: random input either compiles or throws SelectorError, never anything else", () => {
  const alphabet = fc.constantFrom(
    ..."ab1 .'()=<>+-*/,%_$".split(""),
    " AND ",
    " OR ",
    " NOT ",
    " IN ",
    " LIKE ",
    " IS NULL",
    " BETWEEN ",
  );
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 30 }), (parts) => {
      const src = parts.join("");
      try {
        const c = compileSelector(src);
        c.matches(subject({ a: 1, b: "x" }));
      } catch (e) {
        if (!(e instanceof SelectorError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test("selector on a message: $ fields, user properties before JSON payload fields, nested paths", () => {
  const props: MessageProperties = {
    contentType: "application/json",
    userProperties: [
      ["room", "lab"],
      ["room", "second value is ignored"],
    ],
    correlationData: Buffer.from("req-1"),
  };
  const m = createMessage(
    "sensors/lab/temp",
    Buffer.from(JSON.stringify({ temperature: 31, room: "payload room", sensor: { id: "s1", ok: true } })),
    1,
    false,
    props,
    "dev-1",
  );
  const s = new MessageSubject(m);
  const is = (sel: string) => compileSelector(sel).matches(s);
  assert.equal(
    is("temperature > 30 AND room = 'lab'"),
    true,
    "the user property wins over the payload field",
  );
  assert.equal(is("sensor.id = 's1' AND sensor.ok"), true);
  assert.equal(is("sensor IS NULL"), true, "an object is not a value");
  assert.equal(is("$topic LIKE 'sensors/%' AND $qos = 1 AND NOT $retain"), true);
  assert.equal(
    is("$publisher = 'dev-1' AND $contentType = 'application/json' AND $correlationId = 'req-1'"),
    true,
  );
  assert.equal(is("$size > 10"), true);
  const text = new MessageSubject(createMessage("t", Buffer.from("not json {")));
  assert.equal(
    compileSelector("temperature IS NULL").matches(text),
    true,
    "a payload that is not JSON has no fields",
  );
  const array = new MessageSubject(createMessage("t", Buffer.from("[1,2]")));
  assert.equal(compileSelector("length IS NULL").matches(array), true);
});
