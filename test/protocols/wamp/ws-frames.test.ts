/**
 * The WebSocket transport writes data frames itself (transport.ts): small ones share one buffer per
 * tick, larger ones go on their own. A burst of events of every header size (7-bit, 16-bit, 64-bit
 * lengths), small and large mixed, must reach a plain `ws` client whole and in order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { startTestBroker } from "../../helpers/broker.js";

const HELLO = JSON.stringify([1, "realm1", { roles: { publisher: {}, subscriber: {} } }]);

async function join(url: string, onMessage: (text: string) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, ["wamp.2.json"]);
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => ws.send(HELLO));
    ws.once("message", (d: Buffer) => {
      if (!d.toString().startsWith("[2,")) reject(new Error(`no WELCOME: ${d}`));
      ws.on("message", (m: Buffer, binary: boolean) => {
        assert.equal(binary, false, "JSON goes in text frames");
        onMessage(m.toString());
      });
      resolve();
    });
  });
  return ws;
}

test("WAMP over WebSocket: a burst of events of mixed sizes arrives whole and in order", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const got: string[] = [];
  let subscribed: () => void = () => {};
  const ready = new Promise<void>((r) => {
    subscribed = r;
  });
  const sub = await join(b.wampUrl, (t) => {
    if (t.startsWith("[33,")) subscribed();
    else if (t.startsWith("[36,")) got.push(t);
  });
  const pub = await join(b.wampUrl, () => {});
  try {
    sub.send(JSON.stringify([32, 1, {}, "frames.test"]));
    await ready;
    // Payload sizes around each header boundary and the arena's own limits, repeated so one tick
    // carries more frames than the early flush threshold.
    const sizes = [0, 10, 100, 117, 118, 125, 126, 1000, 1010, 1024, 5000, 65_000, 65_600, 70_000];
    const sent: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const n of sizes) {
        const text = `${round}:${n}:`.padEnd(Math.max(n, 8), "x");
        sent.push(text);
        pub.send(JSON.stringify([16, sent.length, {}, "frames.test", [text]]));
      }
    }
    const until = Date.now() + 10_000;
    while (got.length < sent.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, sent.length);
    const texts = got.map((t) => (JSON.parse(t) as unknown[])[4] as string[]).map((a) => a[0]);
    assert.deepEqual(texts, sent);
  } finally {
    sub.terminate();
    pub.terminate();
    await b.close();
  }
});
