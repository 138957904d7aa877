/**
 * What a real `switchboard start` process finds again on its data directory after it was killed
 * with SIGKILL (retained messages, persistent sessions with their subscriptions and queues), and
 * session expiry measured across the time the broker was down.
 *
 * The expiry test does not wait 20 s. The broker keeps, per persistent session, the time its client
 * disconnected (`sessions.disconnected_at`, ms since the epoch) and at start compares it with
 * Date.now() (Router.start). The test stops the broker and moves that stored time 20 s back through
 * the SQLite file: for the broker that is the same as having been down for 20 s. A session of the
 * same kind that is not moved back is the control.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from "mqtt";
import { SQLITE_FILE_NAME } from "../../src/store/sqlite-store.js";
import { waitFor } from "../helpers/external.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { open } from "../protocols/mqtt/util.js";
import { type BrokerProcess, startBroker } from "./broker-process.js";

async function withDataDir(fn: (dataDir: string, clients: MqttClient[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-restart-"));
  const clients: MqttClient[] = [];
  try {
    await fn(join(dir, "data"), clients);
  } finally {
    for (const c of clients) await endClient(c, true);
    await rm(dir, { recursive: true, force: true });
  }
}

const v5 = (clientId: string, sessionExpiryInterval: number): IClientOptions => ({
  clientId,
  protocolVersion: 5,
  clean: false,
  properties: { sessionExpiryInterval },
});

const text = (ms: Array<{ topic: string; payload: Buffer | string }>): string[] =>
  ms.map((m) => `${m.topic}=${m.payload.toString()}`);

/**
 * Connects and records PUBLISH packets in wire order from the first one after CONNACK. (MQTT.js
 * emits 'message' for QoS 2 only at PUBREL, after later QoS 1 messages: no good for order checks.)
 */
async function openRecording(url: string, opts: IClientOptions) {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  const packets: IPublishPacket[] = [];
  client.on("packetreceive", (p) => {
    if (p.cmd === "publish") packets.push(p);
  });
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  const next = async (n: number): Promise<IPublishPacket[]> => {
    await waitFor(() => packets.length >= n, 5000).catch(() => {
      throw new Error(`${opts.clientId}: ${packets.length} of ${n} messages: ${text(packets)}`);
    });
    return packets.slice(0, n);
  };
  return { client, connack, packets, next };
}

test(
  "durability: retained messages, sessions, subscriptions and queues survive SIGKILL",
  {
    timeout: 30_000,
  },
  () =>
    withDataDir(async (dataDir, clients) => {
      let broker: BrokerProcess | undefined = await startBroker({ dataDir });
      try {
        let url = `mqtt://127.0.0.1:${broker.port}`;
        // Persistent sessions: MQTT 3.1.1 clean session 0, and MQTT 5 with a session expiry, whose
        // subscription has options that must come back too.
        const s4 = await connect(url, { clientId: "keep-v4", protocolVersion: 4, clean: false });
        await s4.subscribeAsync({ "keep/#": { qos: 1 }, "other/+": { qos: 2 } });
        await endClient(s4);
        const s5 = await connect(url, v5("keep-v5", 3600));
        await s5.subscribeAsync("keep/#", {
          qos: 2,
          rap: true,
          properties: { subscriptionIdentifier: 7 },
        });
        await endClient(s5);
        // A session that ends with its connection, and one whose client is connected at the kill.
        const temp = await connect(url, { clientId: "temp", protocolVersion: 4, clean: true });
        await temp.subscribeAsync("keep/#", { qos: 1 });
        await endClient(temp);
        const connected = await connect(url, v5("connected", 3600));
        clients.push(connected);
        await connected.subscribeAsync("other/+", { qos: 1 });

        const pub = await connect(url, { clientId: "pub", protocolVersion: 5 });
        await pub.publishAsync("keep/r1", "one", { qos: 1, retain: true });
        await pub.publishAsync("keep/r2", "two", {
          qos: 2,
          retain: true,
          properties: { contentType: "text/plain", userProperties: { k: "v" } },
        });
        await pub.publishAsync("keep/r3", "three", { qos: 1, retain: true });
        await pub.publishAsync("keep/r3", "", { qos: 1, retain: true }); // deletes the retained r3
        await pub.publishAsync("other/x", "queued", { qos: 2 });
        // Killed the instant the last acknowledgement is in: no graceful shutdown, no later commit.
        await broker.kill();
        pub.end(true);
        connected.end(true);

        broker = await startBroker({ dataDir });
        url = `mqtt://127.0.0.1:${broker.port}`;

        // Retained messages: r1 and r2 with their properties, r3 stays deleted.
        const { client: watcher, got: retained } = await open(url, {
          clientId: "watcher",
          protocolVersion: 5,
        });
        clients.push(watcher);
        await watcher.subscribeAsync("keep/#", { qos: 2 });
        const rs = await retained.next(2);
        assert.deepEqual(text(rs).sort(), ["keep/r1=one", "keep/r2=two"]);
        for (const m of rs) assert.equal(m.packet.retain, true, `${m.topic} is retained`);
        const r2 = rs.find((m) => m.topic === "keep/r2")!;
        assert.equal(r2.packet.qos, 2);
        assert.equal(r2.packet.properties?.contentType, "text/plain");
        assert.deepEqual({ ...r2.packet.properties?.userProperties }, { k: "v" });

        // The MQTT 3.1.1 session: present, with its queue in order, and its subscriptions live
        // without subscribing again.
        const a = await openRecording(url, { clientId: "keep-v4", protocolVersion: 4, clean: false });
        clients.push(a.client);
        assert.equal(a.connack.sessionPresent, true, "keep-v4 session present");
        assert.deepEqual(text(await a.next(5)), [
          "keep/r1=one",
          "keep/r2=two",
          "keep/r3=three",
          "keep/r3=",
          "other/x=queued",
        ]);
        assert.deepEqual(
          a.packets.map((m) => m.qos),
          [1, 1, 1, 1, 2],
          "queued at the subscription's QoS",
        );

        // The MQTT 5 session: subscription identifier and Retain As Published kept.
        const b = await openRecording(url, v5("keep-v5", 3600));
        clients.push(b.client);
        assert.equal(b.connack.sessionPresent, true, "keep-v5 session present");
        const queued5 = await b.next(4);
        assert.deepEqual(text(queued5), ["keep/r1=one", "keep/r2=two", "keep/r3=three", "keep/r3="]);
        for (const m of queued5) {
          assert.equal(m.retain, true, "Retain As Published: the retain flag is kept");
          assert.deepEqual(m.properties?.subscriptionIdentifier, 7);
        }
        assert.deepEqual(
          queued5.map((m) => m.qos),
          [1, 2, 1, 1],
        );

        // The client connected at the kill keeps its session and subscription.
        const c = await openRecording(url, v5("connected", 3600));
        clients.push(c.client);
        assert.equal(c.connack.sessionPresent, true, "a session connected at the kill survives");

        // The clean session is gone.
        const t = await openRecording(url, { clientId: "temp", protocolVersion: 4, clean: false });
        clients.push(t.client);
        assert.equal(t.connack.sessionPresent, false, "a clean session does not survive");

        // Live subscriptions after the restart, with nobody subscribing again.
        const pub2 = await connect(url, { clientId: "pub2", protocolVersion: 5 });
        clients.push(pub2);
        await pub2.publishAsync("keep/live", "after", { qos: 1 });
        await pub2.publishAsync("other/y", "after", { qos: 1 });
        assert.deepEqual(text((await a.next(7)).slice(5)), ["keep/live=after", "other/y=after"]);
        assert.deepEqual(text((await b.next(5)).slice(4)), ["keep/live=after"]);
        // It had received other/x live; if its PUBACK was not processed and committed before the
        // kill, other/x comes again first, with DUP (at least once).
        await waitFor(() => c.packets.some((m) => m.topic === "other/y"), 5000);
        const again = c.packets.filter((m) => m.topic !== "other/y");
        assert.deepEqual(text(c.packets.slice(again.length)), ["other/y=after"]);
        for (const m of again) {
          assert.deepEqual([`${m.topic}=${m.payload}`, m.dup], ["other/x=queued", true], "only a DUP resend");
        }
        assert.equal(t.packets.length, 0, "the clean session's subscription is gone");
      } finally {
        await broker?.kill();
      }
    }),
);

test(
  "durability: a session with expiry 10 s is gone after the broker was down 20 s; one with 60 s is not",
  {
    timeout: 30_000,
  },
  () =>
    withDataDir(async (dataDir, clients) => {
      let broker: BrokerProcess | undefined = await startBroker({ dataDir });
      try {
        let url = `mqtt://127.0.0.1:${broker.port}`;
        for (const [id, expiry] of [
          ["short", 10],
          ["long", 60],
          ["control", 10],
        ] as const) {
          const c = await connect(url, v5(id, expiry));
          await c.subscribeAsync("exp/#", { qos: 1 });
          await endClient(c);
        }
        const pub = await connect(url, { clientId: "pub", protocolVersion: 5 });
        await pub.publishAsync("exp/x", "queued", { qos: 1 });
        await endClient(pub);
        assert.equal(await broker.stop(), 0, "graceful stop");
        broker = undefined;

        // "Down for 20 s": the disconnect times of short and long move 20 s into the past.
        const file = join(dataDir, SQLITE_FILE_NAME);
        const db = new Database(file);
        try {
          const before = db
            .prepare("SELECT client_id, disconnected_at FROM sessions ORDER BY client_id")
            .all() as Array<{ client_id: string; disconnected_at: number | null }>;
          assert.deepEqual(
            before.map((r) => r.client_id),
            ["control", "long", "short"],
          );
          for (const r of before) {
            assert.ok(
              typeof r.disconnected_at === "number" && Math.abs(Date.now() - r.disconnected_at) < 10_000,
              `${r.client_id}: a recent disconnect time is stored`,
            );
          }
          const moved = db
            .prepare(
              "UPDATE sessions SET disconnected_at = disconnected_at - 20000 WHERE client_id IN ('short', 'long')",
            )
            .run();
          assert.equal(moved.changes, 2);
        } finally {
          db.close();
        }

        broker = await startBroker({ dataDir });
        url = `mqtt://127.0.0.1:${broker.port}`;
        // The expired session is deleted from the store at start (not only hidden).
        await waitFor(() => {
          const ro = new Database(file, { readonly: true });
          try {
            const ids = ro.prepare("SELECT client_id FROM sessions ORDER BY client_id").pluck().all();
            return JSON.stringify(ids) === JSON.stringify(["control", "long"]);
          } finally {
            ro.close();
          }
        }, 5000);

        const short = await open(url, v5("short", 10));
        clients.push(short.client);
        assert.equal(short.connack.sessionPresent, false, "10 s session expired while the broker was down");
        const long = await open(url, v5("long", 60));
        clients.push(long.client);
        assert.equal(long.connack.sessionPresent, true, "60 s session still there after 20 s");
        assert.deepEqual(text(await long.got.next(1)), ["exp/x=queued"]);
        const control = await open(url, v5("control", 10));
        clients.push(control.client);
        assert.equal(control.connack.sessionPresent, true, "10 s session not moved back: still there");
        assert.deepEqual(text(await control.got.next(1)), ["exp/x=queued"]);
        // Give a wrongly kept queue a moment to show up.
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(short.got.messages.length, 0, "nothing queued for the expired session");
      } finally {
        await broker?.kill();
      }
    }),
);
