/**
 * STOMP's durability guarantee end to end with a real broker process on SQLite: once the broker has
 * sent the RECEIPT for a `persistent:true` SEND into a `/queue/` or to a durable topic subscription,
 * the message survives SIGKILL the next instant; messages a consumer held unacknowledged at the
 * kill come back `redelivered:true`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { header } from "../../src/protocols/stomp/codec/index.js";
import { RawStomp } from "../helpers/raw-stomp.js";
import { type BrokerProcess, startBroker, writeBrokerConfig } from "./broker-process.js";

const TOTAL = 3000;
const KILL_AFTER = 1500;

async function stompPortOf(b: BrokerProcess): Promise<number> {
  const until = Date.now() + 10_000;
  for (;;) {
    const m = /stomp listening.* port=(\d+)/.exec(b.output());
    if (m) return Number(m[1]);
    if (Date.now() > until) throw new Error(`no stomp listener: ${b.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("STOMP: receipted persistent messages survive SIGKILL (queue and durable subscription)", {
  timeout: 90_000,
}, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sb-stomp-kill-"));
  let broker: BrokerProcess | undefined;
  const clients: RawStomp[] = [];
  try {
    // mqtt.maxQueuedMessages (also the bound of a durable subscription's queue) above the test's count.
    const config = await writeBrokerConfig(dataDir);
    broker = await startBroker({ dataDir, config });
    let port = await stompPortOf(broker);
    const { client: durable } = await RawStomp.connect(port, [["client-id", "watcher"]]);
    clients.push(durable);
    durable.send("SUBSCRIBE", [
      ["id", "w"],
      ["destination", "/topic/crash.t"],
      ["durable", "true"],
      ["receipt", "s"],
    ]);
    await durable.waitReceipt("s");
    durable.send("DISCONNECT", [["receipt", "d"]]);
    await durable.waitReceipt("d");

    // A consumer holding 10 unacknowledged messages at the kill.
    const { client: holder } = await RawStomp.connect(port);
    clients.push(holder);
    holder.send("SUBSCRIBE", [
      ["id", "h"],
      ["destination", "/queue/crash"],
      ["ack", "client-individual"],
      ["prefetch-count", "10"],
      ["receipt", "hs"],
    ]);
    await holder.waitReceipt("hs");

    const { client: pub } = await RawStomp.connect(port);
    clients.push(pub);
    const receipted = new Set<number>();
    pub.socket.on("data", () => {
      for (const f of pub.frames) {
        if (f.command !== "RECEIPT") continue;
        const id = header(f, "receipt-id")!;
        receipted.add(Number(id));
      }
      pub.frames.length = 0;
    });
    for (let i = 0; i < TOTAL; i++) {
      const dest = i % 2 === 0 ? "/queue/crash" : "/topic/crash.t";
      pub.send(
        "SEND",
        [
          ["destination", dest],
          ["persistent", "true"],
          ["receipt", String(i)],
        ],
        `m${i}`,
      );
    }
    while (receipted.size < KILL_AFTER) await new Promise((r) => setTimeout(r, 1));
    await holder.waitMessages(10);
    await broker.kill();
    const atKill = new Set(receipted);
    for (const c of clients.splice(0)) c.destroy();

    broker = await startBroker({ dataDir, config });
    port = await stompPortOf(broker);
    const { client: q } = await RawStomp.connect(port);
    clients.push(q);
    q.send("SUBSCRIBE", [
      ["id", "q"],
      ["destination", "/queue/crash"],
    ]);
    const { client: back } = await RawStomp.connect(port, [["client-id", "watcher"]]);
    clients.push(back);
    back.send("SUBSCRIBE", [
      ["id", "w"],
      ["destination", "/topic/crash.t"],
      ["durable", "true"],
    ]);
    const wantQueue = [...atKill].filter((i) => i % 2 === 0);
    const wantTopic = [...atKill].filter((i) => i % 2 === 1);
    const qMsgs = await q.waitMessages(wantQueue.length, 20_000);
    await back.waitMessages(wantTopic.length, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const got = (ms: typeof qMsgs) => new Set(ms.map((m) => Number(m.body.toString().slice(1))));
    const qGot = got(q.messages());
    const tGot = got(back.messages());
    for (const i of wantQueue) assert.ok(qGot.has(i), `queue message ${i} was receipted and lost`);
    for (const i of wantTopic)
      assert.ok(tGot.has(i), `durable subscription message ${i} was receipted and lost`);
    assert.equal(qGot.size, q.messages().length, "no queue message twice");
    assert.equal(tGot.size, back.messages().length, "no topic message twice");
    const redelivered = qMsgs.filter((m) => header(m, "redelivered") === "true").length;
    assert.ok(redelivered >= 10, `${redelivered} redelivered (the holder had 10 unacked)`);
  } finally {
    for (const c of clients) c.destroy();
    await broker?.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
});
