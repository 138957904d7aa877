/**
 * AMQP 1.0 durability with a real broker process: a durable message the broker accepted (unsettled
 * transfer, header durable) is never lost when the broker is killed with SIGKILL the next instant,
 * in a queue and in a durable subscription (durable terminus) whose client was away.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type rhea from "rhea";
import { waitFor } from "../helpers/external.js";
import { closeConn, connect, receiver, sender } from "../protocols/amqp10/client.js";
import { type BrokerProcess, startBroker, writeBrokerConfig } from "./broker-process.js";

const TOTAL = 2000;
const KILL_AFTER = 600;

async function amqpPortOf(p: BrokerProcess): Promise<number> {
  let port = 0;
  await waitFor(() => {
    const m = /amqp listening.* port=(\d+)/.exec(p.output());
    if (m) port = Number(m[1]);
    return port > 0;
  }, 10_000);
  return port;
}

function text(body: unknown): string {
  return typeof body === "string" ? body : (body as { content: Buffer }).content.toString();
}

const SUB = { name: "watch", source: { address: "/topic/events.#", durable: 2, expiry_policy: "never" } };

test("AMQP 1.0: accepted durable messages survive SIGKILL (queue and durable terminus)", {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-amqp10-kill-"));
  let broker: BrokerProcess | undefined;
  try {
    const config = await writeBrokerConfig(dir, "amqp:\n  port: 0\n");
    broker = await startBroker({ dataDir: join(dir, "data"), config });
    let port = await amqpPortOf(broker);
    // The durable subscription is made, then its client goes away.
    const watcher = await connect(port, { containerId: "watcher" });
    const sub = await receiver(watcher, SUB as never);
    sub.receiver.detach();
    await new Promise((r) => setTimeout(r, 100));
    await closeConn(watcher);

    const conn = await connect(port);
    conn.on("disconnected", () => {});
    conn.on("connection_error", () => {});
    const q = await sender(conn, "/queue/orders10");
    const t = await sender(conn, "/topic/events.x");
    const accepted = new Set<number>();
    let killed = false;
    const onAccepted = (ctx: rhea.EventContext) => {
      const n = Number((ctx.delivery as unknown as { tag: Buffer }).tag.toString());
      accepted.add(n);
    };
    q.on("accepted", onAccepted);
    t.on("accepted", () => {});
    let next = 0;
    const pump = (): void => {
      while (!killed && next < TOTAL && q.sendable()) {
        const n = next++;
        q.send({ body: String(n), durable: true }, Buffer.from(String(n)));
        if (n % 100 === 0 && t.sendable()) t.send({ body: `event ${n}`, durable: true });
      }
    };
    q.on("sendable", pump);
    pump();
    await waitFor(() => accepted.size >= KILL_AFTER, 60_000);
    killed = true;
    await broker.kill();
    const acceptedNow = [...accepted];

    broker = await startBroker({ dataDir: join(dir, "data"), config });
    port = await amqpPortOf(broker);
    const c2 = await connect(port);
    const inbox = await receiver(c2, "/queue/orders10");
    await waitFor(() => inbox.messages.length >= acceptedNow.length, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    // Through the store the message keeps its payload and core properties, not its original
    // sections: the body comes back as a data section (docs/amqp10.md).
    const seen = new Set(inbox.messages.map((m) => Number(text(m.message.body))));
    assert.deepEqual(
      acceptedNow.filter((n) => !seen.has(n)),
      [],
      "no accepted message is lost",
    );
    await closeConn(c2);
    // The durable subscription came back with the broker and kept what arrived while its client was away.
    const w2 = await connect(port, { containerId: "watcher" });
    const events = await receiver(w2, SUB as never);
    const [first] = await events.take(1, 10_000);
    assert.equal(text(first!.message.body), "event 0");
    await closeConn(w2);
  } finally {
    await broker?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});
