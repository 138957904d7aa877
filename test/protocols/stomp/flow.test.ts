/**
 * Backpressure (DESIGN.md hot-path rules): a publisher that ignores flow control, and a subscriber
 * that does not read, cannot grow the broker's memory without bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import type { StompConnection } from "../../../src/protocols/stomp/connection.js";
import { startTestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";

test("a publisher flooding a /queue/ is no longer read past stomp.queueFlowLimit; nothing is lost", {
  timeout: 60_000,
}, async () => {
  const b = await startTestBroker({ stomp: { queueFlowLimit: 500 } });
  try {
    const { client: pub } = await RawStomp.connect(b.stompPort);
    const total = 20_000;
    const frame = Buffer.from(`SEND\ndestination:/queue/flood\ncontent-length:64\n\n${"x".repeat(64)}\0`);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
    for (let i = 0; i < total / 1000; i++) pub.write(batch); // no receipts, no waiting: ignores flow control
    await new Promise((r) => setTimeout(r, 1000));
    const q = b.handle.router.queues.find("flood")!;
    // Bounded by the limit plus what one read chunk (64 KiB, ~700 frames) holds past it.
    assert.ok(q.messageCount < 500 + 1500, `${q.messageCount} ready while the publisher is throttled`);
    assert.ok(q.messageCount >= 500);
    const { client: sub } = await RawStomp.connect(b.stompPort);
    sub.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/queue/flood"],
    ]);
    await sub.waitMessages(total, 40_000);
    pub.send(
      "SEND",
      [
        ["destination", "/queue/flood"],
        ["receipt", "end"],
      ],
      "end",
    );
    await pub.waitReceipt("end", 10_000);
    assert.equal(sub.messages().length >= total, true);
    pub.destroy();
    sub.destroy();
  } finally {
    await b.close();
  }
});

test("a /topic/ subscriber that does not read: its buffer stays bounded and messages to it are dropped", {
  timeout: 60_000,
}, async () => {
  const b = await startTestBroker({ stomp: { maxBufferedBytes: 65_536 } });
  try {
    const { client: slow, connected } = await RawStomp.connect(b.stompPort);
    slow.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/topic/fire.hose"],
      ["receipt", "s"],
    ]);
    await slow.waitReceipt("s");
    slow.socket.pause(); // stops reading: TCP fills up, then the broker's buffer for it
    const { client: pub } = await RawStomp.connect(b.stompPort);
    const frame = Buffer.from(
      `SEND\ndestination:/topic/fire.hose\ncontent-length:1024\n\n${"y".repeat(1024)}\0`,
    );
    for (let i = 0; i < 20; i++) pub.write(Buffer.concat(Array.from({ length: 500 }, () => frame)));
    pub.send(
      "SEND",
      [
        ["destination", "/topic/other"],
        ["receipt", "done"],
      ],
      "",
    );
    await pub.waitReceipt("done", 30_000);
    const conn = b.handle.router.sessions.get(header(connected, "session")!)!.connection as StompConnection;
    assert.ok(conn.stream.writableLength <= 65_536 + 2048, `${conn.stream.writableLength} bytes buffered`);
    assert.ok(b.handle.router.stats.messagesDropped > 0);
    slow.destroy();
    pub.destroy();
  } finally {
    await b.close();
  }
});
