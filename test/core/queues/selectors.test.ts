/** Consumers with a selector (docs/filters.md) on a named queue: a JMS/Artemis queue selector. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createMessage } from "../../../src/core/message.js";
import { QueueManager } from "../../../src/core/queues/index.js";
import { SelectorError } from "../../../src/core/selector/lexer.js";
import { body, collect } from "./helpers.js";

const colored = (b: string, color: string) =>
  createMessage("q/t", Buffer.from(b), 1, false, { userProperties: [["color", color]] }, "pub");

function setup() {
  const m = new QueueManager({ now: () => 1_000_000 });
  return m.declare("q", { durable: false, autoDelete: false });
}

test("queue selectors: each consumer gets only what it selects, in order; the rest waits for others", () => {
  const q = setup();
  const red = collect(q, "red", { selector: "color = 'red'" });
  const blue = collect(q, "blue", { selector: "color = 'blue'" });
  for (const [b, c] of [
    ["r1", "red"],
    ["g1", "green"],
    ["b1", "blue"],
    ["r2", "red"],
    ["g2", "green"],
    ["b2", "blue"],
  ] as const) {
    q.publish(colored(b, c));
  }
  assert.deepEqual(red.got.map(body), ["r1", "r2"]);
  assert.deepEqual(blue.got.map(body), ["b1", "b2"]);
  assert.equal(q.messageCount, 2, "the green ones stay in the queue");
  const any = collect(q, "any");
  assert.deepEqual(any.got.map(body), ["g1", "g2"], "a consumer without a selector gets them, in order");
});

test("queue selectors: a message for a consumer with no room keeps its place while later ones flow", () => {
  const q = setup();
  const red = collect(q, "red", { selector: "color = 'red'", prefetch: 1 });
  const other = collect(q, "other", { selector: "color <> 'red'" });
  q.publish(colored("r1", "red"));
  q.publish(colored("r2", "red"));
  q.publish(colored("b1", "blue"));
  q.publish(colored("b2", "blue"));
  assert.deepEqual(red.got.map(body), ["r1"]);
  assert.deepEqual(other.got.map(body), ["b1", "b2"], "not blocked behind r2");
  red.consumer.ack(red.got[0]!.tag);
  assert.deepEqual(red.got.map(body), ["r1", "r2"], "r2 goes out once red has room");
  assert.equal(q.messageCount, 0);
});

test("queue selectors: a requeued message goes back to a consumer that selects it; a bad selector throws", () => {
  const q = setup();
  const red = collect(q, "red", { selector: "color = 'red'" });
  q.publish(colored("r1", "red"));
  red.consumer.cancel();
  assert.equal(q.messageCount, 1);
  const red2 = collect(q, "red2", { selector: "color IN ('red', 'pink')" });
  assert.deepEqual(red2.got.map(body), ["r1"]);
  assert.equal(red2.got[0]!.redelivered, true);
  assert.throws(() => collect(q, "bad", { selector: "color =" }), SelectorError);
});
