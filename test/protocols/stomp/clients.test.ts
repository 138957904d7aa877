/**
 * The queue guarantees with the real clients side by side: stompjs over WebSocket, stompjs over TCP
 * and stompit compete for one /queue/; stompit dies holding unacknowledged messages and they reach
 * the others redelivered. A durable subscription made with stompit is resumed by stompjs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { IMessage } from "@stomp/stompjs";
import { startTestBroker } from "../../helpers/broker.js";
import {
  inbox,
  sendWithReceipt,
  stompitBody,
  stompitConnect,
  stompitSend,
  stompjs,
  withTimeout,
} from "../../helpers/stomp-clients.js";

test("three competing consumers (stompjs WS, stompjs TCP, stompit); stompit dies holding unacked messages", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  const ws = await stompjs({ ws: b.stompWsUrl });
  const tcp = await stompjs({ tcp: b.stompPort });
  const it = await stompitConnect(b.stompPort);
  const pub = await stompjs({ tcp: b.stompPort });
  try {
    const got: Array<{ who: string; body: string; redelivered: boolean }> = [];
    const ackNow = (who: string) => (m: IMessage) => {
      got.push({ who, body: m.body, redelivered: m.headers.redelivered === "true" });
      m.ack();
    };
    const headers = { ack: "client-individual", "prefetch-count": "3" };
    const itHeld: string[] = [];
    it.subscribe({ destination: "/queue/work", ...headers }, (err: Error | null, message: unknown) => {
      if (err) return;
      stompitBody(message).then(
        (body) => itHeld.push(body.toString()),
        () => {},
      );
      // stompit never acknowledges: it holds its prefetch of 3 until it dies.
    });
    const wsBox = inbox();
    const tcpBox = inbox();
    ws.subscribe(
      "/queue/work",
      (m) => {
        ackNow("ws")(m);
        wsBox.onMessage(m);
      },
      headers,
    );
    tcp.subscribe(
      "/queue/work",
      (m) => {
        ackNow("tcp")(m);
        tcpBox.onMessage(m);
      },
      headers,
    );
    await new Promise((r) => setTimeout(r, 300)); // stompit's SUBSCRIBE has no receipt callback
    for (let i = 0; i < 30; i++) {
      const h = { persistent: "true" };
      if (i < 29) pub.publish({ destination: "/queue/work", body: `job-${i}`, headers: h });
      else await sendWithReceipt(pub, "/queue/work", `job-${i}`, h);
    }
    await withTimeout(
      (async () => {
        while (itHeld.length < 3) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "stompit holds 3",
    );
    it.destroy(); // dies without acknowledging
    await withTimeout(
      (async () => {
        while (got.length < 30) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      `all 30 (got ${got.length})`,
    );
    const bodies = got.map((g) => g.body).sort();
    assert.equal(new Set(bodies).size, 30, "every job exactly once among the survivors");
    const redelivered = got
      .filter((g) => g.redelivered)
      .map((g) => g.body)
      .sort();
    assert.deepEqual(redelivered, [...itHeld].sort(), "exactly what stompit held comes back redelivered");
    assert.ok(wsBox.messages.length > 0 && tcpBox.messages.length > 0, "both survivors got work");
    const q = b.handle.router.queues.find("work")!;
    await withTimeout(
      (async () => {
        while (q.unackedCount > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      "acks",
    );
    assert.equal(q.messageCount, 0);
  } finally {
    await ws.deactivate();
    await tcp.deactivate();
    await pub.deactivate();
    await b.close();
  }
});

test("a durable subscription made by stompit (client-id) is resumed by stompjs with the same client-id", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const it = await stompitConnect(b.stompPort, { "client-id": "panel" });
    it.subscribe({ destination: "/topic/panel.#", id: "alerts", durable: "true", ack: "client" }, () => {});
    await new Promise((r) => setTimeout(r, 300));
    await new Promise((r) => it.disconnect(r));
    const pub = await stompjs({ ws: b.stompWsUrl });
    await sendWithReceipt(pub, "/topic/panel.a", "while away", { persistent: "true" });
    await pub.deactivate();
    const js = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "panel" } });
    const box = inbox();
    js.subscribe("/topic/panel.#", box.onMessage, { id: "alerts", durable: "true", ack: "client" });
    const [m] = await box.next(1);
    assert.equal(m!.body, "while away");
    m!.ack();
    await js.deactivate();
    // stompit's message stream API, for completeness: a message sent now to the durable topic.
    const it2 = await stompitConnect(b.stompPort);
    stompitSend(it2, { destination: "/topic/panel.b" }, "later");
    await new Promise((r) => it2.disconnect(r));
    assert.equal(b.handle.router.queues.find("stomp-subscription-panel-alerts")?.messageCount, 1);
  } finally {
    await b.close();
  }
});

test("stompit acknowledges and nacks (client-individual) in the version it negotiated", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const it = await stompitConnect(b.stompPort);
  try {
    const seen: Array<{ body: string; redelivered: boolean }> = [];
    it.subscribe(
      { destination: "/queue/it-acks", ack: "client-individual" },
      (err: Error | null, message: { headers: Record<string, string> }) => {
        if (err) return;
        stompitBody(message).then(
          (body) => {
            seen.push({ body: body.toString(), redelivered: message.headers.redelivered === "true" });
            // The first delivery is refused (back to the queue), the second acknowledged.
            if (seen.length === 1) it.nack(message);
            else it.ack(message);
          },
          () => {},
        );
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    stompitSend(it, { destination: "/queue/it-acks" }, "task");
    const q = () => b.handle.router.queues.find("it-acks");
    await withTimeout(
      (async () => {
        while (seen.length < 2 || (q()?.unackedCount ?? 1) > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      `ack (seen ${seen.length})`,
    );
    assert.deepEqual(seen, [
      { body: "task", redelivered: false },
      { body: "task", redelivered: true },
    ]);
    assert.equal(q()!.messageCount, 0);
  } finally {
    await new Promise((r) => it.disconnect(r));
    await b.close();
  }
});
