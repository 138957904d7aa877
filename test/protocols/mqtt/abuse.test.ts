/**
 * Abusive clients over raw TCP against a real broker: silence, half packets, abrupt disconnects, a slow
 * reader under a flood, connection churn and random garbage. The broker must drop the offender, keep
 * its memory bounded, leave no session behind, and keep serving everyone else.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encode, type ProtocolVersion } from "../../../src/protocols/mqtt/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { assertStillServing, RawMqtt, waitFor } from "../../helpers/raw-mqtt.js";
import { pkt, str } from "./codec/bytes.js";

const MB = 1024 * 1024;

function connectPacket(v: ProtocolVersion, clientId: string, will?: string): Buffer {
  return encode(
    {
      cmd: "connect",
      protocolName: "MQTT",
      protocolVersion: v,
      clean: true,
      keepalive: 0,
      clientId,
      will:
        will === undefined
          ? undefined
          : { topic: will, payload: Buffer.from(clientId), qos: 0, retain: false },
    },
    v,
  );
}

test("connect timeout: a client that connects and sends nothing is dropped after mqtt.connectTimeoutMs", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { connectTimeoutMs: 300 } });
  let raw: RawMqtt | undefined;
  try {
    const started = Date.now();
    raw = await RawMqtt.open(b.mqttPort);
    await raw.waitClose(3000);
    assert.ok(Date.now() - started >= 250, "not before the timeout");
    assert.deepEqual(raw.packets, []);
    await assertStillServing(b);
  } finally {
    raw?.destroy();
    await b.close();
  }
});

test("connect timeout: half a CONNECT and then silence is dropped after mqtt.connectTimeoutMs", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { connectTimeoutMs: 300 } });
  let raw: RawMqtt | undefined;
  try {
    raw = await RawMqtt.open(b.mqttPort);
    raw.send(connectPacket(4, "half").subarray(0, 7));
    await raw.waitClose(3000);
    assert.deepEqual(raw.packets, []);
    await assertStillServing(b);
  } finally {
    raw?.destroy();
    await b.close();
  }
});

for (const v of [4, 5] as const) {
  test(`MQTT ${v}: [MQTT-3.1.2-24] half a PUBLISH and then silence is dropped after 1.5 × keep alive`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker();
    let raw: RawMqtt | undefined;
    try {
      raw = await RawMqtt.session(b.mqttPort, v, "half-publish", 1);
      const publish = pkt(0x30, ...str("a/b"), ...(v === 5 ? [0] : []), ...Buffer.alloc(100, 0x61));
      const sent = Date.now();
      raw.send(publish.subarray(0, 40));
      await raw.waitClose(4000);
      assert.ok(Date.now() - sent >= 1400, "not before one and a half keep alive periods");
      const got = raw.packets.map((p) => [p.cmd, "reasonCode" in p ? p.reasonCode : undefined]);
      // v5: DISCONNECT 0x8D (Keep Alive timeout) first; v3.1.1: just closed.
      assert.deepEqual(got, v === 5 ? [["disconnect", 0x8d]] : []);
      await waitFor(() => !b.handle.router.sessions.has("half-publish"), "session removed");
      await assertStillServing(b, v);
    } finally {
      raw?.destroy();
      await b.close();
    }
  });
}

test("abrupt disconnects mid-packet (FIN and RST) publish the wills and leave no sessions", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker();
  const raws: RawMqtt[] = [];
  try {
    const watcher = await connect(b.mqttUrl, { clientId: "watcher" });
    const wills = collect(watcher);
    await watcher.subscribeAsync("wills/#", { qos: 0 });
    const n = 40;
    for (let i = 0; i < n; i++) {
      const v = i % 2 === 0 ? 4 : 5;
      const raw = await RawMqtt.open(b.mqttPort, v);
      raws.push(raw);
      raw.send(connectPacket(v, `abrupt-${i}`, `wills/${i}`));
      await raw.next("connack");
      // A PUBLISH cut in the middle of its topic, of its payload, or of its fixed header.
      const publish = pkt(0x30, ...str("a/b/c"), ...(v === 5 ? [0] : []), ...Buffer.alloc(300, 0x61));
      raw.send(publish.subarray(0, [1, 4, 150][i % 3]!));
      if (i % 4 < 2) raw.socket.resetAndDestroy();
      else raw.destroy();
    }
    const got = await wills.next(n);
    assert.deepEqual(new Set(got.map((m) => m.topic)).size, n, "one will per abrupt client");
    await waitFor(() => b.handle.router.sessions.size === 1, "only the watcher's session left");
    assert.deepEqual(
      b.handle.router.presence.list().map((r) => r.clientId),
      ["watcher"],
    );
    await endClient(watcher);
    await assertStillServing(b);
  } finally {
    for (const r of raws) r.destroy();
    await b.close();
  }
});

test("slow reader: QoS 0 messages to it are dropped past mqtt.maxBufferedBytes; others get all 20 MB", {
  timeout: 60_000,
}, async () => {
  const limit = 1 * MB;
  const b = await startTestBroker({ mqtt: { maxBufferedBytes: limit } });
  let slow: RawMqtt | undefined;
  let pub: RawMqtt | undefined;
  try {
    slow = await RawMqtt.session(b.mqttPort, 4, "slow");
    slow.send(pkt(0x82, 0, 1, ...str("flood/#"), 0));
    await slow.next("suback");
    slow.socket.pause();

    const fast = await connect(b.mqttUrl, { clientId: "fast" });
    const got = collect(fast);
    await fast.subscribeAsync("flood/#", { qos: 0 });

    const slowConn = b.handle.router.sessions.get("slow")!.connection as unknown as {
      stream: { writableLength: number };
    };
    let maxBuffered = 0;
    fast.on("message", () => {
      maxBuffered = Math.max(maxBuffered, slowConn.stream.writableLength);
    });

    const payload = 16 * 1024;
    const count = (20 * MB) / payload;
    const message = encode(
      {
        cmd: "publish",
        topic: "flood/x",
        payload: Buffer.alloc(payload, 0x62),
        qos: 0,
        retain: false,
        dup: false,
      },
      4,
    );
    pub = await RawMqtt.session(b.mqttPort, 4, "flooder");
    // Paced by the fast subscriber (at most 32 messages, 512 KiB, ahead of it): it keeps up, so it
    // must get everything; the paused reader gets all 20 MB offered and must shed them.
    for (let i = 0; i < count; i++) {
      assert.equal(pub.closed, false, "the publisher is not disconnected");
      if (i - got.messages.length >= 32) await got.next(i - 31, 10_000);
      if (!pub.socket.write(message)) await new Promise((r) => pub!.socket.once("drain", r));
    }

    const all = await got.next(count, 45_000);
    assert.equal(all.length, count, "the fast subscriber gets every message");
    assert.ok(maxBuffered > 0, "the slow reader's buffer filled");
    // The check is made before each write: at most one packet over the limit.
    assert.ok(maxBuffered <= limit + message.length, `buffered ${maxBuffered} <= ${limit} + one packet`);
    assert.ok(b.handle.router.stats.messagesDropped > 0, "messages to the slow reader were dropped");
    const slowSession = b.handle.router.sessions.get("slow")!;
    assert.equal(slowSession.queue.length, 0, "QoS 0 messages are not queued for it");
    await endClient(fast);
    await assertStillServing(b);
  } finally {
    slow?.destroy();
    pub?.destroy();
    await b.close();
  }
});

test("1000 connects and disconnects (clean and abrupt) leave no sessions and no presence behind", {
  timeout: 60_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const batch = 50;
    for (let start = 0; start < 1000; start += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, k) => {
          const i = start + k;
          const v = i % 2 === 0 ? 4 : 5;
          const raw = await RawMqtt.session(b.mqttPort, v, `churn-${i}`);
          if (i % 3 === 0) {
            raw.destroy();
          } else {
            raw.send(encode({ cmd: "disconnect" }, v));
            await raw.waitClose();
          }
        }),
      );
    }
    const router = b.handle.router;
    await waitFor(() => router.sessions.size === 0, "no sessions left");
    assert.equal(router.presence.connectedCount, 0);
    assert.deepEqual(router.presence.list(), []);
    await assertStillServing(b);
  } finally {
    await b.close();
  }
});

test("random garbage after a valid CONNECT closes the connection without crashing the broker", {
  timeout: 60_000,
}, async () => {
  const b = await startTestBroker();
  let id = 0;
  try {
    // Each run sends 16 garbage streams at once. Keep alive 1 s bounds the wait for a stream that
    // leaves the connection waiting for the rest of a packet.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 16, maxLength: 16 }),
        async (streams) => {
          const raws = await Promise.all(
            streams.map((_, k) => RawMqtt.session(b.mqttPort, k % 2 === 0 ? 4 : 5, `garbage-${id++}`, 1)),
          );
          try {
            for (const [k, raw] of raws.entries()) raw.send(Buffer.from(streams[k]!));
            await Promise.all(raws.map((raw) => raw.waitClose(4000)));
            for (const raw of raws) {
              assert.equal(raw.decodeError, undefined, "the broker's answers decode");
              // 0x83 (Implementation specific error) is what the broker sends when a handler throws.
              const internal = raw.packets.some((p) => p.cmd === "disconnect" && p.reasonCode === 0x83);
              assert.equal(internal, false, "no internal error");
            }
          } finally {
            for (const raw of raws) raw.destroy();
          }
        },
      ),
      { numRuns: 8 },
    );
    await waitFor(() => b.handle.router.sessions.size === 0, "no sessions left");
    await assertStillServing(b, 5);
  } finally {
    await b.close();
  }
});
