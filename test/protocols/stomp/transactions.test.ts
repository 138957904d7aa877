/** STOMP 1.2 §BEGIN/COMMIT/ABORT: SEND and ACK/NACK held until COMMIT, dropped by ABORT. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { inbox, stompjs, withTimeout } from "../../helpers/stomp-clients.js";

test("SENDs in a transaction are delivered at COMMIT, in order; ABORT drops them", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client: sub } = await RawStomp.connect(b.stompPort);
    sub.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/topic/tx.#"],
      ["receipt", "s"],
    ]);
    await sub.waitReceipt("s");
    const { client: pub } = await RawStomp.connect(b.stompPort);
    pub.send("BEGIN", [["transaction", "t1"]]);
    pub.send(
      "SEND",
      [
        ["destination", "/topic/tx.a"],
        ["transaction", "t1"],
      ],
      "1",
    );
    pub.send(
      "SEND",
      [
        ["destination", "/queue/txq"],
        ["transaction", "t1"],
      ],
      "q",
    );
    pub.send(
      "SEND",
      [
        ["destination", "/topic/tx.b"],
        ["transaction", "t1"],
        ["receipt", "held"],
      ],
      "2",
    );
    await pub.waitReceipt("held");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sub.messages().length, 0, "nothing before COMMIT");
    assert.equal(b.handle.router.queues.find("txq"), undefined);
    pub.send("BEGIN", [["transaction", "t2"]]);
    pub.send(
      "SEND",
      [
        ["destination", "/topic/tx.c"],
        ["transaction", "t2"],
      ],
      "aborted",
    );
    pub.send("ABORT", [["transaction", "t2"]]);
    pub.send("COMMIT", [
      ["transaction", "t1"],
      ["receipt", "c"],
    ]);
    await pub.waitReceipt("c");
    const ms = await sub.waitMessages(2);
    assert.deepEqual(
      ms.map((m) => m.body.toString()),
      ["1", "2"],
    );
    assert.equal(b.handle.router.queues.find("txq")!.messageCount, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sub.messages().length, 2, "the aborted SEND never arrives");
    pub.send("COMMIT", [["transaction", "t2"]]);
    const e = await pub.waitCommand("ERROR");
    assert.equal(header(e, "message"), "unknown transaction", "t2 ended with its ABORT");
    sub.destroy();
    pub.destroy();
  } finally {
    await b.close();
  }
});

test("ACKs in an aborted transaction leave their messages unacknowledged; committed ones settle", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client: c } = await RawStomp.connect(b.stompPort);
    c.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/queue/txa"],
      ["ack", "client-individual"],
    ]);
    c.send("SEND", [["destination", "/queue/txa"]], "a");
    c.send("SEND", [["destination", "/queue/txa"]], "b");
    const [ma, mb] = await c.waitMessages(2);
    const q = b.handle.router.queues.find("txa")!;
    c.send("BEGIN", [["transaction", "x"]]);
    c.send("ACK", [
      ["id", header(ma!, "ack")!],
      ["transaction", "x"],
    ]);
    c.send("ABORT", [
      ["transaction", "x"],
      ["receipt", "ab"],
    ]);
    await c.waitReceipt("ab");
    assert.equal(q.unackedCount, 2);
    c.send("BEGIN", [["transaction", "y"]]);
    c.send("ACK", [
      ["id", header(ma!, "ack")!],
      ["transaction", "y"],
    ]);
    c.send("NACK", [
      ["id", header(mb!, "ack")!],
      ["transaction", "y"],
      ["requeue", "false"],
    ]);
    assert.equal(q.unackedCount, 2);
    c.send("COMMIT", [
      ["transaction", "y"],
      ["receipt", "cm"],
    ]);
    await c.waitReceipt("cm");
    assert.equal(q.unackedCount, 0);
    assert.equal(q.messageCount, 0);
    c.destroy();
  } finally {
    await b.close();
  }
});

test("a transaction left open at disconnect is aborted", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client: c } = await RawStomp.connect(b.stompPort);
    c.send("BEGIN", [["transaction", "t"]]);
    c.send(
      "SEND",
      [
        ["destination", "/queue/never"],
        ["transaction", "t"],
      ],
      "x",
    );
    c.send("DISCONNECT", [["receipt", "d"]]);
    await c.waitReceipt("d");
    await c.waitClose();
    assert.equal(b.handle.router.queues.find("never"), undefined);
  } finally {
    await b.close();
  }
});

test("stompjs transactions: begin/commit over WebSocket", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const c = await stompjs({ ws: b.stompWsUrl });
  try {
    const box = inbox();
    const ready = new Promise<void>((r) => c.watchForReceipt("s", () => r()));
    c.subscribe("/topic/jtx", box.onMessage, { receipt: "s" });
    await withTimeout(ready, 5000, "subscribe");
    const tx = c.begin();
    c.publish({ destination: "/topic/jtx", body: "in-tx", headers: { transaction: tx.id } });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(box.messages.length, 0);
    tx.commit();
    const [m] = await box.next(1);
    assert.equal(m!.body, "in-tx");
  } finally {
    await c.deactivate();
    await b.close();
  }
});
