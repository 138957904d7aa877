/** AMQP 1.0 with rhea: connect, send and receive on /topic/ and /queue/, outcomes, settlement. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import rhea from "rhea";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { closeConn, connect, errorOf, type RheaConnection, receiver, send, sender } from "./client.js";

const rheaData = (b: Buffer) => rhea.message.data_section(b);

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

test("presettled receiving (snd-settle-mode settled) is at most once: nothing stays unacked", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/pre");
  for (let i = 0; i < 5; i++) await send(s, { body: `p${i}` });
  const inbox = await receiver(conn, { source: "/queue/pre", snd_settle_mode: 1 } as never);
  const got = await inbox.take(5);
  assert.ok(
    got.every((g) => g.delivery.remote_settled),
    "deliveries arrive settled",
  );
  const q = b.handle.router.queues.find("pre")!;
  assert.equal(q.messageCount, 0);
  assert.equal(q.unackedCount, 0);
  inbox.receiver.close();
  s.close();
});

test("outcomes: released comes back with delivery-count 1, rejected is dropped, modified undeliverable-here too", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/outcomes");
  await send(s, { body: "one" });
  const inbox = await receiver(conn, {
    source: "/queue/outcomes",
    autoaccept: false,
    credit_window: 1,
  } as never);
  let [m] = await inbox.take(1);
  assert.equal(m!.message.body, "one");
  assert.equal(m!.message.delivery_count ?? 0, 0);
  m!.delivery.release({ delivery_failed: false });
  [m] = await inbox.take(1);
  assert.equal(m!.message.body, "one", "released: delivered again");
  assert.equal(m!.message.delivery_count, 1);
  m!.delivery.modified({ delivery_failed: true, undeliverable_here: false });
  [m] = await inbox.take(1);
  assert.equal(m!.message.delivery_count, 2, "modified delivery-failed: delivered again, counted");
  m!.delivery.reject({ condition: "app:bad", description: "no" });
  const q = b.handle.router.queues.find("outcomes")!;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(q.messageCount, 0, "rejected: gone");
  await send(s, { body: "two" });
  [m] = await inbox.take(1);
  m!.delivery.modified({ undeliverable_here: true });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(q.messageCount, 0, "modified undeliverable-here: not requeued");
  inbox.receiver.close();
  s.close();
});

test("the broker never sends beyond the receiver's credit; more credit releases more (part 2 §2.6.7)", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/credit");
  for (let i = 0; i < 10; i++) await send(s, { body: `c${i}` });
  const inbox = await receiver(conn, { source: "/queue/credit", credit_window: 0 } as never);
  inbox.receiver.add_credit(3);
  await inbox.take(3);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(inbox.messages.length, 0, "nothing beyond the 3 credits");
  inbox.receiver.add_credit(4);
  await inbox.take(4);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(inbox.messages.length, 0);
  inbox.receiver.close();
  s.close();
});

test("drain: the broker uses up the credit it cannot fill and says so (part 2 §2.6.7)", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/drain");
  await send(s, { body: "only" });
  const inbox = await receiver(conn, { source: "/queue/drain", credit_window: 0 } as never);
  const drained = new Promise<void>((r) => inbox.receiver.once("receiver_drained", () => r()));
  inbox.receiver.drain = true;
  inbox.receiver.add_credit(5);
  await inbox.take(1);
  await drained;
  assert.equal((inbox.receiver as unknown as { credit: number }).credit, 0);
  inbox.receiver.close();
  s.close();
});

test("multi-frame transfers both ways: 1 MiB through 4 KiB frames", { timeout: 20_000 }, async () => {
  const small = await connect(b.amqpPort, { maxFrameSize: 4096 });
  try {
    const inbox = await receiver(small, "/queue/big");
    const s = await sender(small, "/queue/big");
    const body = Buffer.alloc(1024 * 1024, 7);
    body.write("start");
    const r = await send(s, { body: rheaData(body) });
    assert.equal(r.outcome, "accepted");
    const [m] = await inbox.take(1);
    const got = (m!.message.body as { content: Buffer }).content;
    assert.equal(got.length, body.length);
    assert.ok(got.equals(body));
  } finally {
    await closeConn(small);
  }
});

test("a message over maxMessageSize detaches the link with amqp:link:message-size-exceeded", {
  timeout: 10_000,
}, async () => {
  const b2 = await startTestBroker({ config: (c) => (c.amqp.maxMessageSize = 1000) });
  const c2 = await connect(b2.amqpPort);
  try {
    const s = await sender(c2, "/queue/x");
    const err = new Promise<{ condition: string }>((r) =>
      s.once("sender_error", (ctx) => r(ctx.sender!.error as never)),
    );
    s.send({ body: rheaData(Buffer.alloc(5000)) });
    assert.equal((await err).condition, "amqp:link:message-size-exceeded");
  } finally {
    await closeConn(c2);
    await b2.close();
  }
});
