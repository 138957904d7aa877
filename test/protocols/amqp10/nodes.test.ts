/** Dynamic reply nodes, durable terminus, selector filter (part 3 §3.5; docs/filters.md). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import rhea from "rhea";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connect as mqttConnect } from "../../helpers/mqtt-client.js";
import { closeConn, connect, errorOf, type RheaConnection, receiver, send, sender, sleep } from "./client.js";

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

test("a dynamic receiver gets a private reply address an MQTT 5 responder can answer on", {
  timeout: 10_000,
}, async () => {
  const replies = await receiver(conn, { source: { dynamic: true } } as never);
  const address = (replies.receiver as unknown as { source: { address: string } }).source.address;
  assert.match(address, /^\/topic\/\$reply\.amqp10\.[0-9a-f]+$/);
  const mq = await mqttConnect(b.mqttUrl, { protocolVersion: 5 });
  try {
    await mq.subscribeAsync("rpc/requests", { qos: 1 });
    mq.on("message", (_t, payload, packet) => {
      mq.publish(packet.properties!.responseTopic!, `re:${payload}`, {
        qos: 1,
        properties: { correlationData: packet.properties!.correlationData },
      });
    });
    const s = await sender(conn, "/topic/rpc.requests");
    await send(s, { body: "ping", reply_to: address, correlation_id: "r1" });
    const [m] = await replies.take(1);
    assert.equal((m!.message.body as { content: Buffer }).content.toString(), "re:ping");
    assert.equal(m!.message.correlation_id, "r1");
    s.close();
  } finally {
    await mq.endAsync();
    replies.receiver.close();
  }
});

test("request/response between two rhea clients through a dynamic node", { timeout: 10_000 }, async () => {
  const server = await connect(b.amqpPort);
  try {
    const requests = await receiver(server, "/queue/rpc");
    const replySender = await sender(server, { target: {} } as never); // the anonymous relay
    requests.receiver.on("message", (ctx: rhea.EventContext) => {
      replySender.send({
        to: ctx.message!.reply_to,
        body: `${ctx.message!.body}!`,
        correlation_id: ctx.message!.correlation_id,
      });
    });
    const replies = await receiver(conn, { source: { dynamic: true } } as never);
    const address = (replies.receiver as unknown as { source: { address: string } }).source.address;
    const s = await sender(conn, "/queue/rpc");
    await send(s, { body: "hi", reply_to: address, correlation_id: "x" });
    const [m] = await replies.take(1);
    assert.equal(m!.message.body, "hi!");
    assert.equal(m!.message.correlation_id, "x");
    replies.receiver.close();
    s.close();
  } finally {
    await closeConn(server);
  }
});

test("a durable terminus keeps collecting while its link is detached (part 3 §3.5.3)", {
  timeout: 15_000,
}, async () => {
  const c1 = await connect(b.amqpPort, { containerId: "durable-client" });
  const opts = { name: "sub1", source: { address: "/topic/news.#", durable: 2, expiry_policy: "never" } };
  let inbox = await receiver(c1, opts as never);
  const src = (inbox.receiver as unknown as { source: { durable: number; expiry_policy: string } }).source;
  assert.equal(src.durable, 2);
  assert.equal(src.expiry_policy, "never");
  // detach without closing the link: the subscription stays.
  inbox.receiver.detach();
  await sleep(100);
  await closeConn(c1);
  const s = await sender(conn, "/topic/news.world");
  await send(s, { body: "while away", durable: true });
  const c2 = await connect(b.amqpPort, { containerId: "durable-client" });
  try {
    inbox = await receiver(c2, opts as never);
    const [m] = await inbox.take(1);
    assert.equal(m!.message.body, "while away");
    // Closing the link ends the subscription (part 2 §2.6.6).
    const closed = new Promise<void>((r) => inbox.receiver.once("receiver_close", () => r()));
    inbox.receiver.close();
    await closed;
    await sleep(50);
    assert.equal(b.handle.router.queues.find("amqp10-subscription-durable-client-sub1"), undefined);
  } finally {
    await closeConn(c2);
    s.close();
  }
});

test("a non-durable topic link loses its queue when it detaches", { timeout: 10_000 }, async () => {
  const before = b.handle.router.queues.size;
  const inbox = await receiver(conn, "/topic/tmp.x");
  assert.equal(b.handle.router.queues.size, before + 1);
  const closed = new Promise<void>((r) => inbox.receiver.once("receiver_close", () => r()));
  inbox.receiver.close();
  await closed;
  await sleep(50);
  assert.equal(b.handle.router.queues.size, before);
});

test("apache.org:selector-filter:string selects by application property and by JSON field", {
  timeout: 10_000,
}, async () => {
  const filter = rhea.filter.selector("temperature > 30 AND room = 'lab'");
  const inbox = await receiver(conn, { source: { address: "/topic/rooms.#", filter } } as never);
  const applied = (inbox.receiver as unknown as { source: { filter?: Record<string, unknown> } }).source
    .filter;
  assert.ok(applied && Object.keys(applied).length === 1, "the broker echoes the filter it applies");
  const s = await sender(conn, "/topic/rooms.r1");
  await send(s, { body: "a", application_properties: { temperature: 31, room: "lab" } });
  await send(s, { body: "b", application_properties: { temperature: 20, room: "lab" } });
  await send(s, { body: "c", application_properties: { temperature: 35, room: "hall" } });
  await send(s, { body: '{"temperature": 40, "room": "lab"}' });
  const got = await inbox.take(2);
  assert.deepEqual(
    got.map((g) => g.message.body),
    ["a", '{"temperature": 40, "room": "lab"}'],
  );
  await sleep(100);
  assert.equal(inbox.messages.length, 0);
  inbox.receiver.close();
  s.close();
});

test("an invalid selector refuses the attach with amqp:invalid-field", { timeout: 10_000 }, async () => {
  const filter = rhea.filter.selector("a = = 1");
  const e = await errorOf(receiver(conn, { source: { address: "/topic/x", filter } } as never));
  assert.equal(e.condition, "amqp:invalid-field");
});

test("a selector on a /queue/ link makes it a filtering consumer; the rest stays for others, in order", {
  timeout: 10_000,
}, async () => {
  const s = await sender(conn, "/queue/sel-q");
  for (const [body, color] of [
    ["r1", "red"],
    ["g1", "green"],
    ["r2", "red"],
  ] as const) {
    await send(s, { body, application_properties: { color } });
  }
  const red = await receiver(conn, {
    source: { address: "/queue/sel-q", filter: rhea.filter.selector("color = 'red'") },
  } as never);
  const got = await red.take(2);
  assert.deepEqual(
    got.map((g) => g.message.body),
    ["r1", "r2"],
  );
  await sleep(100);
  assert.equal(red.messages.length, 0, "green is not for this link");
  const any = await receiver(conn, "/queue/sel-q");
  const rest = await any.take(1);
  assert.equal(rest[0]!.message.body, "g1");
  red.receiver.close();
  any.receiver.close();
  s.close();
});
