/**
 * AMQP 0-9-1 durability end to end with a real broker process: a message the broker confirmed
 * (publisher confirms, persistent, to a durable queue) is never lost, even when the broker is killed
 * with SIGKILL the next instant. Durable exchanges and bindings survive too (topology file).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqp from "amqplib";
import { waitFor } from "../helpers/external.js";
import { type BrokerProcess, startBroker, writeBrokerConfig } from "./broker-process.js";

const TOTAL = 3000;
const KILL_AFTER = 1000;
const WINDOW = 200;

async function amqpPortOf(p: BrokerProcess): Promise<number> {
  let port = 0;
  await waitFor(() => {
    const m = /amqp listening.* port=(\d+)/.exec(p.output());
    if (m) port = Number(m[1]);
    return port > 0;
  }, 10_000);
  return port;
}

test("confirmed persistent messages survive SIGKILL; durable exchanges and bindings too", {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-amqp-kill-"));
  let broker: BrokerProcess | undefined;
  try {
    const config = await writeBrokerConfig(dir, "amqp:\n  port: 0\n");
    broker = await startBroker({ dataDir: join(dir, "data"), config });
    const url = `amqp://guest:guest@127.0.0.1:${await amqpPortOf(broker)}`;
    const conn = await amqp.connect(url);
    conn.on("error", () => {});
    const ch = await conn.createConfirmChannel();
    ch.on("error", () => {});
    await ch.assertExchange("orders", "direct", { durable: true });
    await ch.assertQueue("orders-q", { durable: true, arguments: { "x-max-length": 100_000 } });
    await ch.bindQueue("orders-q", "orders", "new");

    const confirmed = new Set<number>();
    let inFlight = 0;
    let next = 0;
    let killed = false;
    const killing = (async () => {
      await waitFor(() => confirmed.size >= KILL_AFTER, 60_000);
      killed = true;
      await broker!.kill();
    })();
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (!killed && inFlight < WINDOW && next < TOTAL) {
          const seq = next++;
          inFlight++;
          try {
            ch.publish("orders", "new", Buffer.from(String(seq)), { persistent: true }, (err) => {
              inFlight--;
              if (!err) confirmed.add(seq);
              pump();
            });
          } catch {
            inFlight--;
          }
        }
        if (killed || next >= TOTAL) resolve();
      };
      conn.on("close", () => resolve());
      pump();
    });
    await killing;
    assert.ok(confirmed.size >= KILL_AFTER);

    broker = await startBroker({ dataDir: join(dir, "data"), config });
    const url2 = `amqp://guest:guest@127.0.0.1:${await amqpPortOf(broker)}`;
    const conn2 = await amqp.connect(url2);
    const ch2 = await conn2.createChannel();
    const { messageCount } = await ch2.checkQueue("orders-q");
    assert.ok(messageCount >= confirmed.size, `${messageCount} stored, ${confirmed.size} confirmed`);
    const seen = new Set<number>();
    for (;;) {
      const m = await ch2.get("orders-q", { noAck: true });
      if (!m) break;
      seen.add(Number(m.content.toString()));
    }
    const lost = [...confirmed].filter((s) => !seen.has(s));
    assert.deepEqual(lost, [], "no confirmed message is lost");
    // The durable exchange and its binding came back with the broker.
    await ch2.checkExchange("orders");
    ch2.publish("orders", "new", Buffer.from("after"));
    let after: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && !after; i++) {
      after = await ch2.get("orders-q", { noAck: true });
      if (!after) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(after, "routed through the restored binding");
    assert.equal((after as amqp.GetMessage).content.toString(), "after");
    await conn2.close();
  } finally {
    await broker?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});
