/** AMQP 1.0 with rhea: connect, send and receive on /topic/ and /queue/, outcomes, settlement. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { closeConn, connect, errorOf, type RheaConnection, receiver, send, sender } from "./client.js";

let b: TestBroker;
let conn: RheaConnection;
before(async () => {
  b = await startTestBroker();
  conn = await connect(b.amqpPort);
});
after(async () => {
  await closeConn(conn);
  await b.close();
});

test("a message sent to /topic/a.b reaches a receiver of /topic/a.* (part 2 §2.7.5)", {
  timeout: 10_000,
}, async () => {
  const inbox = await receiver(conn, "/topic/a.*");
  const s = await sender(conn, "/topic/a.b");
  const r = await send(s, { body: "hello", application_properties: { n: 1 } });
  assert.equal(r.outcome, "accepted");
  const [m] = await inbox.take(1);
  assert.equal(m!.message.body, "hello");
  assert.equal(m!.message.application_properties?.n, 1);
  inbox.receiver.close();
  s.close();
});

test("a queue keeps messages until a receiver attaches; accepted settles them", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/q1");
  for (let i = 0; i < 3; i++) assert.equal((await send(s, { body: `m${i}` })).outcome, "accepted");
  const inbox = await receiver(conn, "/queues/q1");
  const got = await inbox.take(3);
  assert.deepEqual(
    got.map((g) => g.message.body),
    ["m0", "m1", "m2"],
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(b.handle.router.queues.find("q1")!.messageCount, 0);
  inbox.receiver.close();
  s.close();
});

test("an unknown address is refused with amqp:not-found (part 2 §2.6.3)", { timeout: 10_000 }, async () => {
  const e = await errorOf(sender(conn, "/nowhere/x"));
  assert.equal(e.condition, "amqp:not-found");
});
