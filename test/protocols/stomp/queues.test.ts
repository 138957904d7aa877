/**
 * /queue/ and /amq/queue/: named durable queues with competing consumers, ack modes auto, client
 * (cumulative) and client-individual, NACK, prefetch-count, and redelivery when a consumer leaves.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header, type StompFrame } from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { inbox, sendWithReceipt, stompjs, withTimeout } from "../../helpers/stomp-clients.js";

const clients: RawStomp[] = [];
async function client(b: TestBroker, version: "1.0" | "1.1" | "1.2" = "1.2"): Promise<RawStomp> {
  const { client: c, connected } = await RawStomp.connect(b.stompPort, [], version);
  assert.equal(connected.command, "CONNECTED", connected.body.toString());
  clients.push(c);
  return c;
}
function closeAll(): void {
  for (const c of clients.splice(0)) c.destroy();
}

async function subscribe(
  c: RawStomp,
  id: string,
  destination: string,
  extra: Array<[string, string]> = [],
): Promise<void> {
  c.send("SUBSCRIBE", [["id", id], ["destination", destination], ["receipt", `s-${id}`], ...extra]);
  await c.waitReceipt(`s-${id}`);
}

async function sendAll(
  c: RawStomp,
  destination: string,
  bodies: string[],
  extra: Array<[string, string]> = [],
): Promise<void> {
  bodies.forEach((body, i) => {
    const h: Array<[string, string]> = [["destination", destination], ...extra];
    if (i === bodies.length - 1) h.push(["receipt", "last"]);
    c.send("SEND", h, body);
  });
  await c.waitReceipt("last");
}

const ackOf = (m: StompFrame): string => header(m, "ack")!;
const bodies = (ms: StompFrame[]): string[] => ms.map((m) => m.body.toString());

test("a queue with three competing consumers, one of which dies holding unacked messages: nothing is lost", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const [c1, c2, c3] = [await client(b), await client(b), await client(b)];
    for (const [i, c] of [c1, c2, c3].entries()) {
      await subscribe(c!, `w${i}`, "/queue/jobs", [
        ["ack", "client-individual"],
        ["prefetch-count", "5"],
      ]);
    }
    const pub = await client(b);
    const all = Array.from({ length: 30 }, (_, i) => `job-${i}`);
    await sendAll(pub, "/queue/jobs", all, [["persistent", "true"]]);
    // Round robin within prefetch 5: each holds 5; 15 wait in the queue.
    const held = await Promise.all([c1!, c2!, c3!].map((c) => c.waitMessages(5)));
    for (const h of held) assert.equal(h.length, 5);
    assert.equal(b.handle.router.queues.find("jobs")!.messageCount, 15);
    // c3 dies without acking: its 5 go back to the queue, flagged redelivered.
    c3!.destroy();
    const done = new Set<string>();
    const redelivered = new Set<string>();
    const workers = [c1!, c2!];
    const seen = [0, 0];
    const until = Date.now() + 15_000;
    while (done.size < 30 && Date.now() < until) {
      for (const [i, w] of workers.entries()) {
        const ms = w.messages();
        for (; seen[i]! < ms.length; seen[i]!++) {
          const m = ms[seen[i]!]!;
          const body = m.body.toString();
          assert.ok(!done.has(body), `${body} delivered twice after its ack`);
          done.add(body);
          if (header(m, "redelivered") === "true") redelivered.add(body);
          w.send("ACK", [["id", ackOf(m)]]);
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(done.size, 30, `got ${done.size}`);
    const c3Bodies = bodies(held[2]!);
    assert.deepEqual(
      [...redelivered].sort(),
      [...c3Bodies].sort(),
      "exactly c3's messages come back redelivered",
    );
    const q = b.handle.router.queues.find("jobs")!;
    await withTimeout(
      (async () => {
        while (q.unackedCount > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "acks settle",
    );
    assert.equal(q.messageCount, 0);
  } finally {
    closeAll();
    await b.close();
  }
});

test("ack:client is cumulative; NACK requeues (redelivered:true) and requeue:false drops", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await client(b);
    await subscribe(c, "s", "/queue/cumulative", [["ack", "client"]]);
    await sendAll(c, "/queue/cumulative", ["a", "b", "c", "d"]);
    const ms = await c.waitMessages(4);
    const q = b.handle.router.queues.find("cumulative")!;
    assert.equal(q.unackedCount, 4);
    c.send("ACK", [
      ["id", ackOf(ms[2]!)],
      ["receipt", "ack-c"],
    ]);
    await c.waitReceipt("ack-c");
    assert.equal(q.unackedCount, 1, "a, b and c acknowledged by one ACK");
    c.send("NACK", [
      ["id", ackOf(ms[3]!)],
      ["receipt", "nack-d"],
    ]);
    await c.waitReceipt("nack-d");
    const again = (await c.waitMessages(5))[4]!;
    assert.equal(again.body.toString(), "d");
    assert.equal(header(again, "redelivered"), "true");
    c.send("NACK", [
      ["id", ackOf(again)],
      ["requeue", "false"],
      ["receipt", "drop"],
    ]);
    await c.waitReceipt("drop");
    assert.equal(q.unackedCount, 0);
    assert.equal(q.messageCount, 0);
  } finally {
    closeAll();
    await b.close();
  }
});

test("UNSUBSCRIBE requeues unacked messages to the other consumer; ack:auto needs no ACK", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const holder = await client(b);
    await subscribe(holder, "h", "/queue/handover", [["ack", "client-individual"]]);
    const pub = await client(b);
    await sendAll(pub, "/queue/handover", ["1", "2", "3"]);
    await holder.waitMessages(3);
    const other = await client(b);
    await subscribe(other, "o", "/queue/handover");
    holder.send("UNSUBSCRIBE", [
      ["id", "h"],
      ["receipt", "u"],
    ]);
    await holder.waitReceipt("u");
    const got = await other.waitMessages(3);
    assert.deepEqual(bodies(got), ["1", "2", "3"], "back in their original order");
    assert.ok(got.every((m) => header(m, "redelivered") === "true"));
    assert.equal(header(got[0]!, "ack"), undefined, "no ack header with ack:auto");
    assert.equal(b.handle.router.queues.find("handover")!.unackedCount, 0);
  } finally {
    closeAll();
    await b.close();
  }
});

test("prefetch-count bounds the unacknowledged messages in flight to a consumer", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await client(b);
    await subscribe(c, "p", "/queue/prefetch", [
      ["ack", "client-individual"],
      ["prefetch-count", "2"],
    ]);
    await sendAll(c, "/queue/prefetch", ["1", "2", "3", "4", "5"]);
    const first = await c.waitMessages(2);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(c.messages().length, 2, "no third message before an ack");
    c.send("ACK", [["id", ackOf(first[0]!)]]);
    await c.waitMessages(3);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(c.messages().length, 3);
  } finally {
    closeAll();
    await b.close();
  }
});

test("/amq/queue/ uses existing queues only; /queue/ creates a durable one", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await client(b);
    c.send("SUBSCRIBE", [
      ["id", "x"],
      ["destination", "/amq/queue/nope"],
      ["receipt", "r"],
    ]);
    const err = await c.waitCommand("ERROR");
    assert.equal(header(err, "message"), "not found");
    assert.equal(header(err, "receipt-id"), "r");
    assert.match(err.body.toString(), /no queue 'nope'/);
    const d = await client(b);
    await sendAll(d, "/queue/made", ["hello"]);
    const q = b.handle.router.queues.find("made")!;
    assert.equal(q.durable, true);
    await subscribe(d, "m", "/amq/queue/made");
    const [m] = await d.waitMessages(1);
    assert.equal(m!.body.toString(), "hello");
    assert.equal(header(m!, "destination"), "/amq/queue/made");
  } finally {
    closeAll();
    await b.close();
  }
});

test("STOMP 1.0 and 1.1 ACK by message-id (1.1 with subscription)", { timeout: 20_000 }, async () => {
  const b = await startTestBroker();
  try {
    for (const version of ["1.0", "1.1"] as const) {
      const c = await client(b, version);
      const q = `/queue/v${version}`;
      await subscribe(c, "s", q, [["ack", "client"]]);
      await sendAll(c, q, ["m"]);
      const [m] = await c.waitMessages(1);
      assert.equal(header(m!, "ack"), undefined, "the ack header is 1.2");
      const h: Array<[string, string]> = [
        ["message-id", header(m!, "message-id")!],
        ["receipt", "a"],
      ];
      if (version === "1.1") h.push(["subscription", "s"]);
      c.send("ACK", h);
      await c.waitReceipt("a");
      assert.equal(b.handle.router.queues.find(`v${version}`)!.unackedCount, 0);
    }
  } finally {
    closeAll();
    await b.close();
  }
});

test("stompjs: client-individual acks with message.ack() over WebSocket; nack redelivers", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const c = await stompjs({ ws: b.stompWsUrl });
  try {
    const box = inbox();
    c.subscribe("/queue/stompjs", box.onMessage, { ack: "client-individual" });
    await sendWithReceipt(c, "/queue/stompjs", "one");
    const [m] = await box.next(1);
    m!.nack();
    const [, again] = await box.next(2);
    assert.equal(again!.body, "one");
    assert.equal(again!.headers.redelivered, "true");
    again!.ack();
    const q = b.handle.router.queues.find("stompjs")!;
    await withTimeout(
      (async () => {
        while (q.unackedCount > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "ack",
    );
  } finally {
    await c.deactivate();
    await b.close();
  }
});

test("/topic/ with ack:client goes through a private queue: unacked messages bounded by prefetch-count", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await client(b);
    await subscribe(c, "t", "/topic/acked.#", [
      ["ack", "client-individual"],
      ["prefetch-count", "1"],
    ]);
    const pub = await client(b);
    await sendAll(pub, "/topic/acked.x", ["1", "2"]);
    const [m1] = await c.waitMessages(1);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(c.messages().length, 1);
    c.send("ACK", [["id", ackOf(m1!)]]);
    const [, m2] = await c.waitMessages(2);
    assert.equal(header(m2!, "destination"), "/topic/acked.x");
    assert.equal(m2!.body.toString(), "2");
    c.send("UNSUBSCRIBE", [
      ["id", "t"],
      ["receipt", "u"],
    ]);
    await c.waitReceipt("u");
    assert.equal([...b.handle.router.queues].length, 0, "the private queue went with the subscription");
  } finally {
    closeAll();
    await b.close();
  }
});

test("STOMP 1.0: SUBSCRIBE without id is named by its destination; UNSUBSCRIBE by destination", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const c = await client(b, "1.0");
    c.send("SUBSCRIBE", [
      ["destination", "/topic/old.school"],
      ["receipt", "s"],
    ]);
    await c.waitReceipt("s");
    c.send("SEND", [["destination", "/topic/old.school"]], "hi");
    const [m] = await c.waitMessages(1);
    assert.equal(header(m!, "subscription"), "/topic/old.school");
    c.send("UNSUBSCRIBE", [
      ["destination", "/topic/old.school"],
      ["receipt", "u"],
    ]);
    await c.waitReceipt("u");
    c.send(
      "SEND",
      [
        ["destination", "/topic/old.school"],
        ["receipt", "p"],
      ],
      "gone",
    );
    await c.waitReceipt("p");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.messages().length, 1);
  } finally {
    closeAll();
    await b.close();
  }
});
