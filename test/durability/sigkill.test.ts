/**
 * The durability guarantee of docs/storage.md, end to end with a real broker process: once the broker
 * has acknowledged a message (PUBACK for QoS 1, PUBREC for QoS 2) it reaches every persistent
 * subscriber even if the broker is killed with SIGKILL the next instant, QoS 2 stays exactly-once
 * across the crash, and per publisher the messages keep their order.
 *
 * Four MQTT.js publishers (3.1.1 and 5, QoS 1 and QoS 2, persistent sessions) send as fast as an
 * in-flight window of 100 allows to three persistent subscribers: two offline ones (MQTT.js, 3.1.1
 * and 5) and one that stays connected and never acknowledges (a raw client), so it has a full
 * in-flight window at the moment of the kill. The broker is killed once half of the messages were
 * acknowledged and restarted on the same data directory; the publishers resume their sessions and
 * complete what was in flight, then the subscribers come back.
 *
 * The broker runs with the default durability ("normal": commit before acknowledging, no fsync per
 * commit), which is what this guarantee needs: a committed transaction is in the OS page cache, and
 * killing the process does not lose it. ("full" adds an fsync per commit for OS crashes and power
 * loss, which a test cannot cause.)
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import mqtt, { type IClientOptions, type MqttClient, type Packet as MqttJsPacket } from "mqtt";
import {
  encode,
  MqttDecoder,
  type Packet,
  type PublishPacket,
  type QoS,
} from "../../src/protocols/mqtt/codec/index.js";
import { endClient } from "../helpers/mqtt-client.js";
import { type BrokerProcess, startBroker, writeBrokerConfig } from "./broker-process.js";

/** Messages per publisher: 2 publishers per QoS, so 10,000 QoS 1 and 10,000 QoS 2 in all. */
const PER_PUBLISHER = 5000;
/** Publishes each publisher keeps unacknowledged (the broker's Receive Maximum is 100). */
const WINDOW = 100;
/** The broker is killed once this many messages (all publishers together) were acknowledged. */
const KILL_AFTER_ACKS = 10_000;
const END_TOPIC = "dur/q1/end";

interface PublisherSpec {
  id: string;
  qos: 1 | 2;
  version: 4 | 5;
}

const PUBLISHERS: PublisherSpec[] = [
  { id: "p1v4", qos: 1, version: 4 },
  { id: "p1v5", qos: 1, version: 5 },
  { id: "p2v4", qos: 2, version: 4 },
  { id: "p2v5", qos: 2, version: 5 },
];

const topicOf = (p: PublisherSpec): string => `dur/q${p.qos}/${p.id}`;

/** Payload "<publisher id>:<seq>"; seq starts at 0. */
function parsePayload(payload: Buffer | Uint8Array | string): { publisher: string; seq: number } {
  const s = payload.toString();
  const i = s.lastIndexOf(":");
  return { publisher: s.slice(0, i), seq: Number(s.slice(i + 1)) };
}

function persistentOptions(clientId: string, version: 4 | 5): IClientOptions {
  return {
    clientId,
    protocolVersion: version,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
  };
}

function mqttConnect(port: number, opts: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, opts);
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", reject);
  });
}

/**
 * One MQTT.js publisher: keeps up to WINDOW publishes in flight, and records which sequence numbers
 * the broker acknowledged, from the PUBACK/PUBREC packets themselves (packet id -> seq, taken from
 * the PUBLISH as it is written). `pending` mirrors the client's in-flight state, for the resend
 * after the restart.
 */
class Publisher {
  readonly acked = new Set<number>();
  readonly errors: string[] = [];
  /** Packet id -> seq and state: "publish" = waiting PUBACK/PUBREC, "pubrel" = waiting PUBCOMP. */
  readonly pending = new Map<number, { seq: number; state: "publish" | "pubrel" }>();
  next = 0;
  inflight = 0;
  stopped = false;

  client!: MqttClient;

  constructor(
    readonly spec: PublisherSpec,
    private readonly onAck: () => void,
  ) {}

  /** Publishes through `client` from now on (a new connection after the restart). */
  attach(client: MqttClient): void {
    this.client = client;
    this.stopped = false;
    this.inflight = 0;
    client.on("error", () => {}); // ECONNRESET when the broker is killed
    client.on("packetsend", (p: MqttJsPacket) => {
      if (p.cmd === "publish" && p.messageId !== undefined) {
        this.pending.set(p.messageId, { seq: parsePayload(p.payload).seq, state: "publish" });
      }
    });
    client.on("packetreceive", (p: MqttJsPacket) => {
      if (p.cmd === "puback" || p.cmd === "pubrec" || p.cmd === "pubcomp") {
        this.onBrokerAck(p.cmd, p.messageId!, p.reasonCode ?? 0);
      }
    });
  }

  /** PUBACK/PUBREC: the broker has the message; PUBCOMP ends the QoS 2 exchange. */
  onBrokerAck(cmd: "puback" | "pubrec" | "pubcomp", packetId: number, reasonCode: number): void {
    const entry = this.pending.get(packetId);
    if (!entry) {
      this.errors.push(`${cmd} for unknown packet id ${packetId}`);
      return;
    }
    if (cmd === "pubcomp") {
      // 0x92 (packet id not found) is fine: a PUBREL resent after the broker had completed it.
      this.pending.delete(packetId);
      return;
    }
    if (reasonCode >= 0x80) this.errors.push(`${cmd} ${reasonCode} for seq ${entry.seq}`);
    else this.acked.add(entry.seq);
    if (cmd === "puback") this.pending.delete(packetId);
    else entry.state = "pubrel";
    this.onAck();
  }

  /** Publishes until PER_PUBLISHER are sent or `stopped` is set. */
  pump(): void {
    while (!this.stopped && this.inflight < WINDOW && this.next < PER_PUBLISHER) {
      const seq = this.next++;
      this.inflight++;
      this.client.publish(topicOf(this.spec), `${this.spec.id}:${seq}`, { qos: this.spec.qos }, () => {
        this.inflight--;
        this.pump();
        if (this.inflight === 0 && this.next === PER_PUBLISHER) this.onDone();
      });
    }
  }

  /** Publishes the rest and resolves once every exchange is complete. */
  finish(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.spec.id}: ${this.next} sent, ${this.inflight} unacknowledged`)),
        ms,
      );
      this.onDone = () => {
        clearTimeout(timer);
        resolve();
      };
      this.pump();
    });
  }

  private onDone: () => void = () => {};

  /**
   * After the restart: resumes the session and completes what was in flight, as a client must
   * ([MQTT-4.4.0-1]): PUBLISH again with DUP and the same packet id, or PUBREL again. (A raw client
   * does it: MQTT.js 5.16 did not resend its in-flight messages after reconnect() in this setup.)
   */
  async resend(port: number): Promise<void> {
    const c = await RawClient.connect(port, this.spec.id, this.spec.version, true);
    c.onAck = (cmd, packetId, reasonCode) => {
      this.onBrokerAck(cmd, packetId, reasonCode);
      if (cmd === "pubrec") c.send({ cmd: "pubrel", packetId });
    };
    try {
      for (const [packetId, { seq, state }] of this.pending) {
        if (state === "pubrel") c.send({ cmd: "pubrel", packetId });
        else
          c.send({
            cmd: "publish",
            topic: topicOf(this.spec),
            payload: Buffer.from(`${this.spec.id}:${seq}`),
            qos: this.spec.qos,
            retain: false,
            dup: true,
            packetId,
          });
      }
      await c.until(() => this.pending.size === 0, `${this.spec.id}: in-flight publishes completed`);
      c.send({ cmd: "disconnect" });
    } finally {
      c.destroy();
    }
  }
}

/**
 * A raw MQTT client over node:net with the project's codec, so the test sees every PUBLISH with its
 * packet id and DUP flag and controls its own acknowledgements. Persistent session (clean false;
 * MQTT 5 with a session expiry of an hour). `ack` = false: it acknowledges nothing (a client that
 * stopped processing), so its in-flight window fills and stays full.
 */
class RawClient {
  readonly publishes: PublishPacket[] = [];
  readonly closed: Promise<void>;
  /** PUBACK/PUBREC/PUBCOMP from the broker (for a publishing client). */
  onAck: (cmd: "puback" | "pubrec" | "pubcomp", packetId: number, reasonCode: number) => void = () => {};
  private readonly decoder = new MqttDecoder({ maxPacketSize: 1 << 28 });
  private waiters: Array<() => void> = [];
  private connack: Packet | undefined;
  private suback = false;

  private constructor(
    private readonly socket: Socket,
    private readonly version: 4 | 5,
    private readonly ack: boolean,
  ) {
    this.decoder.version = version;
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.decoder.push(chunk, (p) => this.onPacket(p));
      for (const w of [...this.waiters]) w();
    });
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  static async connect(port: number, clientId: string, version: 4 | 5, ack: boolean): Promise<RawClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new RawClient(socket, version, ack);
    c.send({
      cmd: "connect",
      protocolName: "MQTT",
      protocolVersion: version,
      clean: false,
      keepalive: 0,
      clientId,
      properties: version === 5 ? { sessionExpiryInterval: 3600 } : undefined,
    });
    await c.until(() => c.connack !== undefined, "CONNACK");
    assert.equal(c.connack?.cmd === "connack" && c.connack.reasonCode, 0, `${clientId}: CONNACK`);
    return c;
  }

  async subscribe(filters: Array<[string, QoS]>): Promise<void> {
    this.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: filters.map(([topic, qos]) => ({
        topic,
        qos,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
      })),
    });
    await this.until(() => this.suback, "SUBACK");
  }

  until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timeout waiting for ${what}; ${this.publishes.length} publishes received`));
      }, ms);
      this.waiters.push(check);
    });
  }

  send(p: Packet): void {
    if (!this.socket.destroyed) this.socket.write(encode(p, this.version));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case "connack":
        this.connack = p;
        return;
      case "suback":
        this.suback = true;
        return;
      case "puback":
      case "pubrec":
      case "pubcomp":
        this.onAck(p.cmd, p.packetId, p.reasonCode ?? 0);
        return;
      case "publish":
        this.publishes.push(p);
        if (this.ack && p.qos === 1) this.send({ cmd: "puback", packetId: p.packetId! });
        if (this.ack && p.qos === 2) this.send({ cmd: "pubrec", packetId: p.packetId! });
        return;
      case "pubrel":
        if (this.ack) this.send({ cmd: "pubcomp", packetId: p.packetId });
        return;
      default:
        return;
    }
  }
}

/** What one subscriber received after the restart, as (topic, payload, qos, dup, packet id). */
interface Got {
  topic: string;
  payload: string;
  qos: number;
  dup: boolean;
  packetId: number | undefined;
}

/**
 * Reconnects an MQTT.js subscriber and records every PUBLISH packet from the first one after
 * CONNACK (packets, not 'message' events: MQTT.js would hide a second PUBLISH of a QoS 2 message
 * with a packet id it has not released yet).
 */
async function reconnectMqttJs(
  port: number,
  opts: IClientOptions,
): Promise<{ client: MqttClient; got: Got[] }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, opts);
  const got: Got[] = [];
  client.on("packetreceive", (p: MqttJsPacket) => {
    if (p.cmd !== "publish") return;
    got.push({
      topic: p.topic,
      payload: p.payload.toString(),
      qos: p.qos,
      dup: p.dup,
      packetId: p.messageId,
    });
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", (connack) => {
      if (!connack.sessionPresent) reject(new Error(`${opts.clientId}: session not present after restart`));
      else resolve();
    });
    client.once("error", reject);
  });
  return { client, got };
}

async function waitUntil(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The guarantee, for one subscriber's messages after the restart: every acknowledged QoS 1 message
 * at least once, every acknowledged QoS 2 message exactly once, no QoS 2 message twice, and per
 * publisher the first occurrences in increasing order.
 */
function checkDeliveries(name: string, got: Got[], publishers: Publisher[]): void {
  const byPublisher = new Map<string, number[]>();
  for (const g of got) {
    if (g.topic === END_TOPIC) continue;
    const { publisher, seq } = parsePayload(g.payload);
    const list = byPublisher.get(publisher);
    if (list) list.push(seq);
    else byPublisher.set(publisher, [seq]);
  }
  for (const p of publishers) {
    const seqs = byPublisher.get(p.spec.id) ?? [];
    const count = new Map<number, number>();
    let lastFirst = -1;
    for (const seq of seqs) {
      const n = (count.get(seq) ?? 0) + 1;
      count.set(seq, n);
      if (n === 1) {
        assert.ok(seq > lastFirst, `${name}: ${p.spec.id} seq ${seq} arrived (first) after seq ${lastFirst}`);
        lastFirst = seq;
      }
      if (p.spec.qos === 2) assert.equal(n, 1, `${name}: QoS 2 message ${p.spec.id}:${seq} delivered twice`);
      assert.ok(seq >= 0 && seq < p.next, `${name}: ${p.spec.id} seq ${seq} was never published`);
    }
    const missing = [...p.acked].filter((seq) => !count.has(seq));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `${name}: ${missing.length} acknowledged messages of ${p.spec.id} lost (first ones shown)`,
    );
  }
  for (const g of got) {
    if (g.topic === END_TOPIC) continue;
    const expected = g.topic.startsWith("dur/q2/") ? 2 : 1;
    assert.equal(g.qos, expected, `${name}: ${g.topic} delivered at QoS ${g.qos}`);
  }
}

test("durability: acknowledged QoS 1/2 messages survive SIGKILL of the broker, QoS 2 exactly once, in order", {
  timeout: 58_000,
}, async (t: TestContext) => {
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "switchboard-sigkill-"));
  const dataDir = join(dir, "data");
  const config = await writeBrokerConfig(dir);
  let broker: BrokerProcess | undefined;
  const clients: MqttClient[] = [];
  const raws: RawClient[] = [];
  try {
    broker = await startBroker({ dataDir, config });
    const port = broker.port;
    const filters: Array<[string, QoS]> = [
      ["dur/q1/#", 1],
      ["dur/q2/#", 2],
    ];

    // Offline persistent subscribers: subscribe, then go away.
    for (const [id, version] of [
      ["sub-v4", 4],
      ["sub-v5", 5],
    ] as const) {
      const sub = await mqttConnect(port, persistentOptions(id, version));
      await sub.subscribeAsync({ "dur/q1/#": { qos: 1 }, "dur/q2/#": { qos: 2 } });
      await endClient(sub);
    }
    // A connected subscriber that never acknowledges: its in-flight window is full at the kill.
    const live = await RawClient.connect(port, "sub-live", 5, false);
    raws.push(live);
    await live.subscribe(filters);

    // Publish until half of all messages were acknowledged, then SIGKILL mid-stream.
    const total = PUBLISHERS.length * PER_PUBLISHER;
    let acks = 0;
    let killed: Promise<void> | undefined;
    const publishers: Publisher[] = [];
    const onAck = (): void => {
      acks++;
      if (acks >= KILL_AFTER_ACKS && !killed) {
        for (const p of publishers) p.stopped = true;
        killed = broker!.kill();
      }
    };
    for (const spec of PUBLISHERS) {
      const client = await mqttConnect(port, persistentOptions(spec.id, spec.version));
      clients.push(client);
      const p = new Publisher(spec, onAck);
      p.attach(client);
      publishers.push(p);
    }
    const tPublish = Date.now();
    for (const p of publishers) p.pump();
    await waitUntil(() => killed !== undefined, `${KILL_AFTER_ACKS} acknowledgements`, 30_000);
    await killed;
    const publishMs = Date.now() - tPublish;
    await waitUntil(() => clients.every((c) => !c.connected), "the publishers to see the kill", 10_000);
    await live.closed;
    const inflightAtKill = new Map(live.publishes.map((p) => [p.packetId!, p]));
    const ackedAtKill = publishers.reduce((n, p) => n + p.acked.size, 0);
    const sentAtKill = publishers.reduce((n, p) => n + p.next, 0);
    t.diagnostic(
      `killed after ${ackedAtKill} of ${sentAtKill} published messages were acknowledged (${publishMs} ms, ` +
        `${Math.round((ackedAtKill / publishMs) * 1000)} acks/s); live subscriber had ${inflightAtKill.size} in flight`,
    );
    assert.ok(ackedAtKill < total, "the kill came mid-stream");
    assert.ok(inflightAtKill.size > 0, "the live subscriber had messages in flight");

    // The publishers are gone with their connections; their sessions and in-flight state are not.
    for (const c of clients.splice(0)) c.end(true);

    // Restart on the same data directory. The publishers resume their sessions and complete what
    // was in flight (a QoS 2 PUBLISH the broker already had is acknowledged, not routed again).
    const tRestart = Date.now();
    broker = await startBroker({ dataDir, config });
    const restartMs = Date.now() - tRestart;
    const port2 = broker.port;
    const resentByPublishers = publishers.reduce((n, p) => n + p.pending.size, 0);
    await Promise.all(publishers.map((p) => p.resend(port2)));
    // Then they publish the rest of their messages on the restarted broker.
    for (const p of publishers) {
      const client = await mqttConnect(port2, persistentOptions(p.spec.id, p.spec.version));
      clients.push(client);
      p.attach(client);
    }
    await Promise.all(publishers.map((p) => p.finish(30_000)));
    for (const p of publishers) {
      assert.deepEqual(p.errors, [], `${p.spec.id}: errors`);
      assert.equal(p.acked.size, PER_PUBLISHER, `${p.spec.id}: every message acknowledged in the end`);
    }
    const ackedTotal = publishers.reduce((n, p) => n + p.acked.size, 0);
    // A marker queued behind everything: a subscriber that got it has got all the rest.
    const marker = await mqttConnect(port2, { clientId: "marker", reconnectPeriod: 0 });
    await marker.publishAsync(END_TOPIC, "end", { qos: 1 });
    await endClient(marker);

    const tDrain = Date.now();
    const subs = await Promise.all([
      reconnectMqttJs(port2, persistentOptions("sub-v4", 4)),
      reconnectMqttJs(port2, persistentOptions("sub-v5", 5)),
    ]);
    for (const s of subs) clients.push(s.client);
    const liveAgain = await RawClient.connect(port2, "sub-live", 5, true);
    raws.push(liveAgain);
    const done = (got: Array<{ topic: string }>): boolean => got.at(-1)?.topic === END_TOPIC;
    await waitUntil(() => subs.every((s) => done(s.got)), "the end marker (MQTT.js subscribers)", 30_000);
    await liveAgain.until(() => done(liveAgain.publishes), "the end marker (live subscriber)", 30_000);
    const drainMs = Date.now() - tDrain;
    t.diagnostic(
      `restart ${restartMs} ms; the publishers completed ${resentByPublishers} in-flight exchanges, ` +
        `${ackedTotal} messages acknowledged in all; ` +
        `subscribers drained ${subs.map((s) => s.got.length).join(" + ")} + ${liveAgain.publishes.length} ` +
        `messages in ${drainMs} ms; whole test ${Date.now() - t0} ms`,
    );

    checkDeliveries("sub-v4", subs[0]!.got, publishers);
    checkDeliveries("sub-v5", subs[1]!.got, publishers);
    const liveGot: Got[] = liveAgain.publishes.map((p) => ({
      topic: p.topic,
      payload: p.payload.toString(),
      qos: p.qos,
      dup: p.dup,
      packetId: p.packetId,
    }));
    checkDeliveries("sub-live", liveGot, publishers);

    // The live subscriber's unacknowledged deliveries come again first, with DUP and the same
    // packet ids ([MQTT-4.4.0-1]) - at least those whose message the broker had acknowledged.
    const firstFresh = liveGot.findIndex((g) => !g.dup);
    const resent = liveGot.slice(0, firstFresh < 0 ? liveGot.length : firstFresh);
    const resentById = new Map(resent.map((g) => [g.packetId!, g]));
    assert.equal(resentById.size, resent.length, "resent packet ids are distinct");
    assert.ok(
      liveGot.slice(resent.length).every((g) => !g.dup),
      "DUP deliveries come before the rest of the queue",
    );
    let mustResend = 0;
    for (const [packetId, before] of inflightAtKill) {
      const { publisher, seq } = parsePayload(before.payload);
      if (!publishers.find((p) => p.spec.id === publisher)!.acked.has(seq)) continue;
      mustResend++;
      const again = resentById.get(packetId);
      assert.ok(again, `in-flight ${publisher}:${seq} (packet id ${packetId}) resent after the restart`);
      assert.equal(again.payload, before.payload.toString(), `packet id ${packetId} keeps its message`);
      assert.equal(again.qos, before.qos);
    }
    assert.ok(mustResend > 0, "some acknowledged messages were in flight to the live subscriber");
  } finally {
    for (const c of clients) await endClient(c, true);
    for (const r of raws) r.destroy();
    await broker?.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
