/** STOMP 1.2 §Heart-beating: negotiation, the server's beats, and enforcement of the client's. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { negotiateHeartbeat } from "../../../src/protocols/stomp/handlers/connect.js";
import { startTestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { stompjs } from "../../helpers/stomp-clients.js";

test("negotiation: max of the two sides, 0 on either side = none", () => {
  assert.deepEqual(negotiateHeartbeat("0,0", 1000, 1000), { sendEvery: 0, expectEvery: 0 });
  assert.deepEqual(negotiateHeartbeat("500,2000", 1000, 1000), { sendEvery: 2000, expectEvery: 1000 });
  assert.deepEqual(negotiateHeartbeat("3000,100", 1000, 1000), { sendEvery: 1000, expectEvery: 3000 });
  assert.deepEqual(negotiateHeartbeat("3000,100", 0, 1000), { sendEvery: 0, expectEvery: 3000 });
  assert.deepEqual(negotiateHeartbeat("3000,100", 1000, 0), { sendEvery: 1000, expectEvery: 0 });
  assert.deepEqual(negotiateHeartbeat(undefined, 1000, 1000), { sendEvery: 0, expectEvery: 0 });
  assert.throws(() => negotiateHeartbeat("x,1", 1000, 1000), /heart-beat/);
});

test("the broker sends heart-beats at the negotiated interval when it has nothing else to send", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ stomp: { heartbeatSendMs: 200, heartbeatReceiveMs: 0 } });
  try {
    const { client, connected } = await RawStomp.connect(b.stompPort, [["heart-beat", "0,200"]]);
    assert.equal(header(connected, "heart-beat"), "200,0");
    await new Promise((r) => setTimeout(r, 1300));
    assert.ok(client.heartbeats >= 3, `${client.heartbeats} heart-beats in 1.3 s`);
    client.destroy();
  } finally {
    await b.close();
  }
});

test("a client that stops beating gets ERROR 'heart-beat timeout' and is closed; one that beats stays", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker({ stomp: { heartbeatSendMs: 0, heartbeatReceiveMs: 500 } });
  try {
    const { client: silent } = await RawStomp.connect(b.stompPort, [["heart-beat", "500,0"]]);
    const { client: beating } = await RawStomp.connect(b.stompPort, [["heart-beat", "500,0"]]);
    const timer = setInterval(() => beating.write("\n"), 150);
    try {
      const t0 = Date.now();
      const e = await silent.waitCommand("ERROR", 5000);
      assert.equal(header(e, "message"), "heart-beat timeout");
      assert.match(e.body.toString(), /within 1000 ms/);
      await silent.waitClose();
      assert.ok(Date.now() - t0 >= 900, "not before two intervals");
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(beating.closed, false);
    } finally {
      clearInterval(timer);
    }
    beating.destroy();
  } finally {
    await b.close();
  }
});

test("stompjs with heart-beats both ways stays connected past several intervals", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker({ stomp: { heartbeatSendMs: 500, heartbeatReceiveMs: 500 } });
  const c = await stompjs({ ws: b.stompWsUrl }, { heartbeatIncoming: 500, heartbeatOutgoing: 500 });
  try {
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(c.connected, true);
  } finally {
    await c.deactivate();
    await b.close();
  }
});
