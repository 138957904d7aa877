/**
 * Slow consumers (issue 4): one stalled subscriber among 50 fast ones neither slows the fast ones
 * nor grows the broker's memory without bound.
 *
 * The broker runs as `switchboard start` in a child process, so its RSS (/proc/<pid>/status VmRSS)
 * is its own, with small bounds: mqtt.maxBufferedBytes 1 MiB, mqtt.maxQueuedMessages 1000,
 * mqtt.maxInflight 100. The load is generated here with raw sockets and pre-built packets; the
 * subscribers count PUBLISH packets by their fixed header only (no decoding, no MQTT client library).
 *
 * Load: one publisher sends small messages (64 B payload) on `load/small` as fast as an end-to-end
 * window allows (at most WINDOW messages that the slowest fast subscriber has not yet received; at
 * QoS 1 also at most 90 unacknowledged PUBLISHes, under the broker's Receive Maximum of 100), and
 * after every SMALL_PER_BIG small messages one 16 KiB message on `load/big`. The 50 fast
 * subscribers take `load/small` at QoS 0. The stalled one (QoS 0 in one test, QoS 1 in the other)
 * CONNECTs, SUBSCRIBEs to `load/#`, then calls socket.pause() and never reads again. The big
 * messages make the memory bound meaningful: the stalled subscriber is offered 100-280 MB, so a
 * broker that buffered it would blow the bound; they cost the fast ones nothing (nobody else takes
 * `load/big`, and the baseline phases send them too).
 *
 * Phases on one broker: warm-up, then B S B S B S B S B (B: baseline, the stalled subscriber
 * unsubscribed; S: it is subscribed), 0.8 s each. Each S is compared with the mean of its two
 * neighbouring Bs; the test uses the median of the four ratios (drift, JIT warm-up and a
 * neighbour process's burst cancel out), with one second attempt when it is under the threshold.
 * The stalled subscriber stays connected (and stalled) through all phases, so whatever the broker
 * keeps for it accumulates over every S phase.
 *
 * Observed on the 2-core development machine, with other benchmarks running (load average ~5),
 * 6 runs: fast-subscriber rate 10-18k msg/s each at QoS 0 (0.5-0.9M deliveries/s in total),
 * 7-14k at QoS 1; median stalled/baseline ratio 0.88-0.97 (QoS 0) and 0.89-1.03 (QoS 1), single
 * phases 0.52-1.37; no fast subscriber lost a message. Broker CPU per fast delivery 0.55-0.65 µs
 * with or without the stalled QoS 0 subscriber; with the stalled QoS 1 one 0.75-1.3 µs against
 * 0.6-0.8 µs (its queue churns: enqueue and drop-oldest per message). Broker RSS: idle ~70-73
 * MiB; QoS 0: peak 82-87 MiB with or without the stalled subscriber (bound idle + 97 MiB); QoS 1:
 * peak 107-143 MiB, the baseline phases alone reaching 108-136 (GC lag on the 16 KiB QoS 1 flood),
 * so the stalled subscriber adds 0-8 MiB over the baseline peak (bound idle + 113.6 MiB). At QoS 0, 97-98% of the messages offered to the stalled subscriber are dropped and
 * counted in $SYS/broker/messages/dropped (the rest fit its 1 MiB buffer and the kernel's socket
 * buffers); at QoS 1 its session ends with exactly 100 in flight and 900 queued, everything else
 * dropped and counted. The two child-process tests take ~12 s each.
 *
 * The third test shows a broker problem (failing): queued messages pin the read chunks they were
 * decoded from (see its comment).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { MqttClient } from "mqtt";
import { encode, type QoS } from "../../../src/protocols/mqtt/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { startProgram } from "../../helpers/external.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { RawMqtt } from "../../helpers/raw-mqtt.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "src", "cli", "main.js");

const MiB = 1024 * 1024;
const MAX_BUFFERED_BYTES = 1 * MiB;
const MAX_QUEUED_MESSAGES = 1000;
const MAX_INFLIGHT = 100;

const FAST_SUBSCRIBERS = 50;
const SMALL_PAYLOAD = 64;
const BIG_PAYLOAD = 16 * 1024;
const SMALL_PER_BIG = 4;
/** Small messages the slowest fast subscriber may lag behind the publisher. */
const WINDOW = 4000;
/** Unacknowledged QoS 1 PUBLISHes from the publisher (the broker's Receive Maximum is 100). */
const PUB_INFLIGHT = 90;
const WARMUP_MS = 1000;
/** Baseline phases (no stalled subscriber) and stalled phases (long enough for a big flood). */
const BASELINE_MS = 800;
const STALLED_MS = 800;
/** Stalled phases, each between two baselines: B S B S … B. */
const STALLED_PHASES = 4;

/**
 * The fast subscribers must keep at least this share of their baseline rate (median over the
 * stalled phases). The stalled subscriber costs the broker one cheap step per message (QoS 0: its
 * buffer is over the bound, drop; QoS 1: the window is full, queue and drop the oldest), so the
 * expected ratio is ~0.9-1.0 (0.88-1.03 observed). 0.7 rather than 0.8: on a loaded 2-core machine
 * the broker, this process's 52 sockets and whatever else runs share two cores; single 0.8 s
 * phases were seen at 0.36-0.52 of their neighbours when another process took the CPU, and under
 * heavy contention medians of 0.6-0.7 were seen once. A broker that blocks on the stalled socket,
 * buffers for it without bound or resends to it falls far below.
 */
const MIN_RATE_RATIO = 0.7;

/**
 * RSS allowance above the broker's idle RSS (measured after the warm-up, every fast subscriber
 * connected): the configured buffers for the stalled subscriber (maxBufferedBytes at QoS 0;
 * maxQueuedMessages × 16 KiB payloads, the in-flight ones included, plus maxBufferedBytes at
 * QoS 1), plus a margin for what the flood itself costs a Node process whoever reads it: V8's
 * young generation (up to 2 × 16 MiB semi-spaces), old-space garbage and freed read buffers
 * between major GCs, allocator arenas not returned. The margin is 96 MiB, not 64: at QoS 1 the
 * 16 KiB flood alone (baseline phases) lifted RSS up to 63 MiB over idle here; 96 is that plus
 * half. The test checks that the stalled subscriber was offered more than buffers + margin, so an
 * unbounded buffer or queue would exceed the bound.
 */
const MEMORY_MARGIN = 96 * MiB;

// ---- load generator -----------------------------------------------------------------------------

/** Counts packets by type from their fixed header only; the body is skipped, never copied. */
class PacketCounter {
  readonly byType = new Array<number>(16).fill(0);
  private type = -1;
  private length = 0;
  private multiplier = 1;
  private skip = 0;

  push(b: Buffer): void {
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - i);
        this.skip -= k;
        i += k;
        continue;
      }
      if (this.type < 0) {
        this.type = b[i++]! >> 4;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      const byte = b[i++]!;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) continue;
      this.byType[this.type]!++;
      this.skip = this.length;
      this.type = -1;
    }
  }

  get publishes(): number {
    return this.byType[3]!;
  }
}

/** A raw MQTT 3.1.1 connection that only counts what it receives. */
class CountingClient {
  readonly counter = new PacketCounter();
  onData: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.counter.push(chunk);
      this.onData?.();
    });
    socket.on("error", () => {});
  }

  static async open(port: number, clientId: string): Promise<CountingClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => {
        s.off("error", reject);
        resolve(s);
      });
      s.once("error", reject);
    });
    socket.setNoDelay(true);
    const c = new CountingClient(socket);
    socket.write(
      encode(
        { cmd: "connect", protocolName: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId },
        4,
      ),
    );
    await c.until(() => c.counter.byType[2]! > 0, "CONNACK");
    return c;
  }

  async subscribe(filter: string, qos: QoS): Promise<void> {
    const before = this.counter.byType[9]!;
    this.socket.write(encode(subscribePacket(filter, qos), 4));
    await this.until(() => this.counter.byType[9]! > before, "SUBACK");
  }

  until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const start = Date.now();
      const check = (): void => {
        if (cond()) return resolve();
        if (Date.now() - start > ms) return reject(new Error(`timeout waiting for ${what}`));
        setTimeout(check, 5);
      };
      check();
    });
  }
}

function subscribePacket(topic: string, qos: QoS) {
  return {
    cmd: "subscribe" as const,
    packetId: 1,
    subscriptions: [{ topic, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const }],
  };
}

/** Pre-encoded PUBLISH and where its packet id sits (QoS 1), to be patched per message. */
function template(topic: string, size: number, qos: QoS): { bytes: Buffer; idAt: number } {
  const payload = Buffer.alloc(size, 0x61);
  const bytes = encode({ cmd: "publish", topic, payload, qos, retain: false, dup: false, packetId: 1 }, 4);
  return { bytes, idAt: bytes.length - size - 2 };
}

interface RunResult {
  /** Small messages published. */
  sent: number;
  /** Big messages published. */
  big: number;
  /** The slowest fast subscriber's messages per second during the run. */
  rate: number;
  /** Every fast subscriber received every small message once the run was drained. */
  lossless: boolean;
  maxRss: number;
}

/**
 * Publishes for `ms`, within the windows, then waits for the fast subscribers to catch up.
 * `fast` counts are cumulative; the run measures their increase.
 */
async function runLoad(
  pub: CountingClient,
  fast: CountingClient[],
  qos: QoS,
  ms: number,
  rss: () => number,
): Promise<RunResult> {
  const small = template("load/small", SMALL_PAYLOAD, qos);
  const big = template("load/big", BIG_PAYLOAD, qos);
  const startCounts = fast.map((f) => f.counter.publishes);
  const received = (): number => {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < fast.length; i++) {
      const n = fast[i]!.counter.publishes - startCounts[i]!;
      if (n < min) min = n;
    }
    return min;
  };
  const pubacksAtStart = pub.counter.byType[4]!;
  let sent = 0;
  let bigSent = 0;
  let published = 0; // PUBLISH packets (small + big), for the QoS 1 window
  let packetId = 0;
  let maxRss = rss();
  let scheduled = false;
  let done = false;
  const t0 = performance.now();
  const deadline = t0 + ms;
  let measuredCounts: number[] | undefined;
  let measuredMs = 0;

  const packet = (t: { bytes: Buffer; idAt: number }): Buffer => {
    if (qos === 0) return t.bytes;
    packetId = (packetId % 65535) + 1;
    const b = Buffer.from(t.bytes);
    b.writeUInt16BE(packetId, t.idAt);
    return b;
  };

  const pump = (): void => {
    scheduled = false;
    if (done) return;
    if (performance.now() >= deadline) {
      done = true;
      measuredMs = performance.now() - t0;
      measuredCounts = fast.map((f, i) => f.counter.publishes - startCounts[i]!);
      return;
    }
    const lagRoom = WINDOW - (sent - received());
    const ackRoom =
      qos === 0
        ? Number.POSITIVE_INFINITY
        : PUB_INFLIGHT - (published - (pub.counter.byType[4]! - pubacksAtStart));
    let room = Math.min(lagRoom, ackRoom);
    if (room <= 0) return; // resumed by the next data event
    const out: Buffer[] = [];
    while (room > 0) {
      out.push(packet(small));
      sent++;
      published++;
      room--;
      if (sent % SMALL_PER_BIG === 0) {
        out.push(packet(big));
        bigSent++;
        published++;
        room--;
      }
    }
    pub.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    schedule();
  };
  const schedule = (): void => {
    if (scheduled || done) return;
    scheduled = true;
    setImmediate(pump);
  };
  for (const f of fast) f.onData = schedule;
  pub.onData = schedule;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, rss());
    schedule(); // in case every socket went quiet
  }, 50);
  try {
    schedule();
    await pub.until(() => done, "end of run", ms + 5000);
    // Drain: every fast subscriber should get every small message (QoS 0 to them, no loss).
    let lossless = true;
    await pub
      .until(() => fast.every((f, i) => f.counter.publishes - startCounts[i]! >= sent), "drain", 5000)
      .catch(() => {
        lossless = false;
      });
    if (qos > 0) await pub.until(() => pub.counter.byType[4]! - pubacksAtStart >= published, "PUBACKs");
    maxRss = Math.max(maxRss, rss());
    const slowest = Math.min(...measuredCounts!);
    return { sent, big: bigSent, rate: (slowest * 1000) / measuredMs, lossless, maxRss };
  } finally {
    clearInterval(sampler);
    for (const f of fast) f.onData = undefined;
    pub.onData = undefined;
  }
}

// ---- broker in a child process ------------------------------------------------------------------

function readRss(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]) * 1024;
}

const mib = (n: number): string => (n / MiB).toFixed(1);

/** Resolves with the next value of a retained/periodic $SYS counter published after `after`. */
function sysValue(watcher: MqttClient, topic: string, after: number, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.off("message", onMessage);
      reject(new Error(`no ${topic} after ${after}`));
    }, ms);
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic || Date.now() < after) return;
      clearTimeout(timer);
      watcher.off("message", onMessage);
      resolve(payload.toString());
    };
    watcher.on("message", onMessage);
  });
}

function readCpuMs(pid: number): number {
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Phase extends RunResult {
  stalled: boolean;
  /** Broker CPU per delivered small message, µs (fast subscribers only). */
  brokerUs: number;
  /** This process's CPU over the phase, as a share of the phase's wall time. */
  loadShare: number;
}

/**
 * Each stalled phase against the mean of the baselines just before and after it (cancels drift
 * and JIT warm-up), in phase order.
 */
function stallRatios(phases: Phase[]): number[] {
  return phases
    .map((p, i) => (p.stalled ? p.rate / ((phases[i - 1]!.rate + phases[i + 1]!.rate) / 2) : -1))
    .filter((r) => r >= 0);
}

/** Payload bytes offered to the stalled subscriber. */
function stalledBytes(phases: Phase[]): number {
  return phases.reduce((n, p) => (p.stalled ? n + p.sent * SMALL_PAYLOAD + p.big * BIG_PAYLOAD : n), 0);
}

/** The median of stallRatios: one phase disturbed by a neighbour process does not decide. */
function medianRatio(phases: Phase[]): number {
  const r = stallRatios(phases).sort((x, y) => x - y);
  const mid = r.length / 2;
  return r.length % 2 ? r[Math.floor(mid)]! : (r[mid - 1]! + r[mid]!) / 2;
}

async function scenario(t: TestContext, stalledQoS: QoS): Promise<void> {
  if (process.platform !== "linux") {
    t.skip("reads the broker's RSS from /proc");
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "switchboard-slow-"));
  const config = join(dir, "switchboard.yaml");
  await writeFile(
    config,
    [
      "mqtt:",
      `  maxBufferedBytes: ${MAX_BUFFERED_BYTES}`,
      `  maxQueuedMessages: ${MAX_QUEUED_MESSAGES}`,
      `  maxInflight: ${MAX_INFLIGHT}`,
      "sys:",
      "  intervalMs: 250",
      "",
    ].join("\n"),
  );
  // Log level info, not warn: the listening port is logged at info (nothing per message is).
  const sb = startProgram(
    process.execPath,
    [
      MAIN,
      "start",
      "--store",
      "memory",
      "--mqtt-port",
      "0",
      "--http-port",
      "off",
      "--stomp-port",
      "0",
      "--wamp-port",
      "0",
      "--amqp-port",
      "off",
      "--xmpp-port",
      "off",
      "--coap-port",
      "off",
      "--log-level",
      "info",
      "--config",
      config,
    ],
    /mqtt listening.* port=(\d+)/,
  );
  const clients: CountingClient[] = [];
  let stalled: RawMqtt | undefined;
  let watcher: MqttClient | undefined;
  try {
    const port = Number((await sb.started)[1]);
    const pid = sb.child.pid!;
    const rss = (): number => readRss(pid);

    watcher = await connect(`mqtt://127.0.0.1:${port}`, { clientId: "watcher" });
    await watcher.subscribeAsync(["$SYS/broker/messages/dropped", "$SYS/clients/stalled/disconnected"]);

    const fast: CountingClient[] = [];
    for (let i = 0; i < FAST_SUBSCRIBERS; i++) {
      const f = await CountingClient.open(port, `fast-${i}`);
      clients.push(f);
      await f.subscribe("load/small", 0);
      fast.push(f);
    }
    const pub = await CountingClient.open(port, "publisher");
    clients.push(pub);
    // The publisher's QoS: the stalled subscriber gets min(publish, subscribe) = stalledQoS.
    const qos = stalledQoS;

    await runLoad(pub, fast, qos, WARMUP_MS, rss);
    await new Promise((r) => setTimeout(r, 300));
    const idleRss = rss();
    const droppedBefore = Number(await sysValue(watcher, "$SYS/broker/messages/dropped", Date.now()));

    // The stalled subscriber: subscribes, then never reads again (the broker's writes to it back
    // up). It stays connected throughout; between its phases it unsubscribes (the packets still go
    // out: only reading is paused), so the baselines run without it and it accumulates, across all
    // its phases, whatever the broker keeps for it.
    stalled = await RawMqtt.session(port, 4, "stalled");
    stalled.send(encode(subscribePacket("load/#", stalledQoS), 4));
    const suback = await stalled.next("suback");
    assert.deepEqual(suback.cmd === "suback" && suback.reasonCodes, [stalledQoS]);
    stalled.socket.pause();
    let packetId = 1;
    stalled.send(encode({ cmd: "unsubscribe", packetId: ++packetId, topics: ["load/#"] }, 4));

    const buffers =
      stalledQoS === 0 ? MAX_BUFFERED_BYTES : MAX_QUEUED_MESSAGES * (BIG_PAYLOAD + 64) + MAX_BUFFERED_BYTES;
    const phases: Phase[] = [];
    // One attempt is B S B S … B. A second attempt runs only if the first one's ratio is under the
    // threshold: a neighbour process that takes the CPU for a second or two (this machine also
    // runs benchmarks) does not fail the test, a broker that slows the fast ones fails both.
    const attemptRatios: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const first = phases.length;
      for (let phase = 0; phase < 2 * STALLED_PHASES + 1; phase++) {
        const withStalled = phase % 2 === 1;
        const p = { ...subscribePacket("load/#", stalledQoS), packetId: ++packetId };
        if (withStalled) stalled.send(encode(p, 4));
        await new Promise((r) => setTimeout(r, 50)); // the (un)subscription takes effect
        const cpu0 = readCpuMs(pid);
        const self0 = process.cpuUsage();
        const wall0 = performance.now();
        const r = await runLoad(pub, fast, qos, withStalled ? STALLED_MS : BASELINE_MS, rss);
        const wall = performance.now() - wall0;
        const self = process.cpuUsage(self0);
        phases.push({
          ...r,
          stalled: withStalled,
          brokerUs: ((readCpuMs(pid) - cpu0) * 1000) / (r.sent * FAST_SUBSCRIBERS),
          loadShare: (self.user + self.system) / 1000 / wall,
        });
        if (withStalled)
          stalled.send(encode({ cmd: "unsubscribe", packetId: ++packetId, topics: ["load/#"] }, 4));
      }
      attemptRatios.push(medianRatio(phases.slice(first)));
      // (Also when the stalled subscriber has not yet been offered enough to test the memory bound.)
      if (attemptRatios.at(-1)! >= MIN_RATE_RATIO && stalledBytes(phases) > buffers + MEMORY_MARGIN) break;
    }
    // After the flood, the stalled subscriber still connected and still not reading.
    await new Promise((r) => setTimeout(r, 300));
    const afterFloodRss = rss();
    const dropped =
      Number(await sysValue(watcher, "$SYS/broker/messages/dropped", Date.now())) - droppedBefore;
    // Its session as the broker reports it when the connection ends ($SYS presence record).
    const record = sysValue(watcher, "$SYS/clients/stalled/disconnected", 0);
    stalled.destroy();
    stalled = undefined;
    const session = JSON.parse(await record) as { queued: number; inflight: number };
    await new Promise((r) => setTimeout(r, 300));
    const finalRss = rss();

    const base = phases.filter((p) => !p.stalled);
    const stall = phases.filter((p) => p.stalled);
    const ratio = Math.max(...attemptRatios);
    const offered = stall.reduce((n, p) => n + p.sent + p.big, 0);
    const offeredBytes = stalledBytes(phases);
    const peakRss = Math.max(...stall.map((p) => p.maxRss));
    const bound = idleRss + buffers + MEMORY_MARGIN;
    const summary = {
      stalledQoS,
      rates: phases.map((p) => `${p.stalled ? "S" : "B"}:${Math.round(p.rate)}`).join(" "),
      ratios: stallRatios(phases)
        .map((r) => r.toFixed(2))
        .join(" "),
      ratio: attemptRatios.map((r) => r.toFixed(2)).join(" then "),
      brokerUsPerDelivery: phases.map((p) => p.brokerUs.toFixed(2)).join(" "),
      generatorCpuShare: phases.map((p) => p.loadShare.toFixed(2)).join(" "),
      offeredToStalled: { messages: offered, MiB: mib(offeredBytes) },
      dropped,
      stalledSession: `${session.inflight} in flight + ${session.queued} queued`,
      rssMiB: {
        idle: mib(idleRss),
        baselinePeak: mib(Math.max(...base.map((p) => p.maxRss))),
        stalledPeak: mib(peakRss),
        afterFlood: mib(afterFloodRss),
        final: mib(finalRss),
        bound: mib(bound),
      },
    };
    const why = JSON.stringify(summary);
    t.diagnostic(why);

    // (a) The fast subscribers keep their rate and, at QoS 0, lose nothing.
    assert.ok(
      phases.every((p) => p.lossless),
      `a fast subscriber lost messages: ${why}`,
    );
    assert.ok(ratio >= MIN_RATE_RATIO, `fast subscribers slowed down: ${why}`);
    // The load is real: the stalled subscriber was offered far more than the bound allows.
    assert.ok(offeredBytes > buffers + MEMORY_MARGIN, `the flood is too small to test the bound: ${why}`);

    // (b) The broker's memory stays bounded during and after the flood.
    assert.ok(peakRss <= bound, `RSS over the bound during the flood: ${why}`);
    assert.ok(afterFloodRss <= bound, `RSS over the bound after the flood: ${why}`);
    assert.ok(finalRss <= bound, `RSS over the bound at the end: ${why}`);

    if (stalledQoS === 0) {
      // What the stalled subscriber could not take was dropped and counted: all but what fit in
      // its 1 MiB buffer and the kernel's socket buffers (a few MiB) of > 100 MB offered.
      assert.ok(dropped >= offered * 0.5, `drops not counted: ${why}`);
      assert.ok(dropped <= offered, `more drops than messages to the stalled subscriber: ${why}`);
    } else {
      // (c) At QoS 1 the stalled subscriber holds at most maxInflight in flight, and its session
      // at most maxQueuedMessages (queued + in flight); the rest was dropped and counted.
      assert.ok(session.inflight <= MAX_INFLIGHT, `in flight over the window: ${why}`);
      assert.ok(session.queued + session.inflight <= MAX_QUEUED_MESSAGES, `queue over its bound: ${why}`);
      assert.equal(session.inflight, MAX_INFLIGHT, "the stall filled the in-flight window");
      assert.ok(session.queued > 0, "the stall filled the queue");
      assert.ok(dropped >= offered - MAX_QUEUED_MESSAGES, `drops not counted: ${why}`);
      assert.ok(dropped <= offered, `more drops than messages to the stalled subscriber: ${why}`);
    }
  } finally {
    stalled?.destroy();
    for (const c of clients) c.socket.destroy();
    if (watcher) await endClient(watcher, true).catch(() => {});
    sb.child.kill("SIGKILL");
    await sb.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

test(
  "slow consumer at QoS 0: 50 fast subscribers keep their rate and lose nothing; the stalled one's messages are dropped and counted; RSS bounded",
  {
    timeout: 45_000,
  },
  (t) => scenario(t, 0),
);

test(
  "slow consumer at QoS 1: the stalled subscriber holds maxInflight in flight and at most maxQueuedMessages; the others keep their rate; RSS bounded",
  {
    timeout: 45_000,
  },
  (t) => scenario(t, 1),
);

/**
 * What a queued message costs. The decoder hands the payload out as a view into the socket's read
 * chunk (up to 64 KiB), and a queued message keeps that view, so it pins the whole chunk: a stalled
 * subscriber on a topic that gets one small message per chunk holds maxQueuedMessages × 64 KiB
 * instead of maxQueuedMessages × its payloads. White-box (in-process broker): the read buffers
 * behind the stalled session's queued and in-flight payloads are summed directly, GC-independent.
 * Observed: 1000 held messages of 64 B (62.5 KiB of payload) pin ~56 MiB of read buffers.
 */
test("slow consumer at QoS 1: the stalled subscriber's held messages cost their own bytes, not the read buffers they arrived in", {
  timeout: 30_000,
}, async () => {
  const broker = await startTestBroker({
    mqtt: { maxQueuedMessages: MAX_QUEUED_MESSAGES, maxInflight: MAX_INFLIGHT },
  });
  let stalled: RawMqtt | undefined;
  let pub: RawMqtt | undefined;
  try {
    stalled = await RawMqtt.session(broker.mqttPort, 4, "stalled");
    stalled.send(encode(subscribePacket("rare", 1), 4));
    await stalled.next("suback");
    stalled.socket.pause();
    pub = await RawMqtt.session(broker.mqttPort, 4, "rare-publisher");
    // Per batch one 64 B message on `rare` (QoS 1) and 60 KB on a topic nobody takes: each read
    // chunk carries about one message for the stalled subscriber.
    const filler = encode(
      { cmd: "publish", topic: "filler", payload: Buffer.alloc(20_000), qos: 0, retain: false, dup: false },
      4,
    );
    const rare = template("rare", SMALL_PAYLOAD, 1);
    for (let i = 1; i <= MAX_QUEUED_MESSAGES; i++) {
      const p = Buffer.from(rare.bytes);
      p.writeUInt16BE(i, rare.idAt);
      pub.send(Buffer.concat([p, filler, filler, filler]));
      // Within the broker's Receive Maximum: wait for the PUBACKs every 50 messages.
      if (i % 50 === 0) for (let k = 0; k < 50; k++) await pub.next("puback");
    }
    const session = broker.handle.router.sessions.get("stalled")!;
    const held = [...session.queue, ...session.inflight.values()];
    assert.equal(held.length, MAX_QUEUED_MESSAGES, "the stall filled the session");
    const payloadBytes = held.reduce((n, d) => n + d.message.payload.length, 0);
    const backing = new Set(held.map((d) => d.message.payload.buffer));
    let pinned = 0;
    for (const ab of backing) pinned += ab.byteLength;
    assert.ok(
      pinned <= 2 * payloadBytes + 64 * 1024,
      `${held.length} held messages with ${(payloadBytes / 1024).toFixed(1)} KiB of payload pin ` +
        `${mib(pinned)} MiB of read buffers (${backing.size} distinct buffers)`,
    );
  } finally {
    stalled?.destroy();
    pub?.destroy();
    await broker.close();
  }
});
