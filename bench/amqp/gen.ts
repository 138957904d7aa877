/**
 * The AMQP load generator: runs one scenario against a broker and prints one JSON line. Run pinned
 * to its own core by run.ts. Publishers are closed-loop (a bounded number of messages published
 * and not yet consumed or confirmed), bodies are 64 bytes, frames are hand-built (frames.ts).
 *
 *   node dist/bench/amqp/gen.js <scenario> <port> <broker pid> [warmupMs] [measureMs]
 */
import { performance } from "node:perf_hooks";
import { cpuMicros, rssKiB } from "../proc.js";
import { quantile, sleep } from "../stats.js";
import { BenchConnection } from "./client.js";
import { ACK_TAG_OFFSET, ackFrame, BODY_SIZE, method, publishFrames, repeat, writeTag } from "./frames.js";
import { measureWindow, type WindowResult } from "./window.js";

export type ScenarioId = "no-ack" | "manual-ack" | "confirms" | "fanout16" | "latency" | "idle";

interface Result {
  scenario: ScenarioId;
  /** The headline: msg/s, deliveries/s, confirmed msg/s, p50 µs, or KiB per connection. */
  value: number;
  unit: string;
  brokerCpuPct: number;
  genCpuPct: number;
  extras: Record<string, number | string>;
}

const [scenario, portArg, pidArg, warmArg, measureArg] = process.argv.slice(2) as [
  ScenarioId,
  string,
  string,
  string?,
  string?,
];
const port = Number(portArg);
const brokerPid = Number(pidArg);
const WARMUP = Number(warmArg ?? 1000);
const MEASURE = Number(measureArg ?? 3000);
const BATCH = 32;
/**
 * Messages (fan-out: deliveries) published and not yet consumed. Large on purpose: RabbitMQ only
 * becomes CPU-bound with a deep pipeline (with 4,096 it idled at a quarter of its core here), and the
 * comparison must be against RabbitMQ at its best. BENCH_AMQP_WINDOW overrides it.
 */
const WINDOW = Number(process.env.BENCH_AMQP_WINDOW ?? 131_072);
const body = Buffer.alloc(BODY_SIZE, 0x61);

/** Counts `count()` over the measuring window, with broker and generator CPU. */
function window(count: () => number): Promise<WindowResult> {
  return measureWindow(count, brokerPid, WARMUP, MEASURE);
}

async function declareQueue(c: BenchConnection, name: string, durable = false, args = {}): Promise<void> {
  await c.call(
    method(1, "queue.declare", { queue: name, durable, autoDelete: false, arguments: args }),
    "queue.declare-ok",
  );
  await c.call(method(1, "queue.purge", { queue: name }), "queue.purge-ok");
}

/** basic.deliver frames counted; with `ack`, each delivery acknowledged (one write per read). */
async function consumer(
  queue: string,
  opts: { ack: boolean; prefetch?: number },
  onDeliver: () => void,
): Promise<BenchConnection> {
  const c = await BenchConnection.open(port);
  if (opts.prefetch) await c.call(method(1, "basic.qos", { prefetchCount: opts.prefetch }), "basic.qos-ok");
  const acks: Buffer[] = [];
  const template = ackFrame(1);
  c.onMethod = (cls, m, buf, at) => {
    if (cls !== 60 || m !== 60) return;
    onDeliver();
    if (!opts.ack) return;
    // consumer-tag shortstr, then the delivery tag
    const tagAt = at + 1 + buf[at]!;
    const tag = buf.readUInt32BE(tagAt) * 0x1_0000_0000 + buf.readUInt32BE(tagAt + 4);
    const a = Buffer.from(template);
    writeTag(a, ACK_TAG_OFFSET, tag);
    acks.push(a);
  };
  c.onChunkEnd = () => {
    if (acks.length === 0) return;
    c.socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
    acks.length = 0;
  };
  await c.call(
    method(1, "basic.consume", { queue, consumerTag: "bench", noAck: !opts.ack }),
    "basic.consume-ok",
  );
  return c;
}

/**
 * Closed-loop publishers: while fewer than `window` messages are outstanding (published, not yet
 * counted by `done()`), each writes batches of 32 publishes, pausing when its socket is full.
 */
function pump(
  pubs: BenchConnection[],
  batch: Buffer,
  perMessage: number,
  window: number,
  done: () => number,
): { published: () => number; stop: () => void; kick: () => void } {
  let published = 0;
  let stopped = false;
  const busy = new Set<BenchConnection>();
  const kick = (): void => {
    if (stopped) return;
    for (const p of pubs) {
      if (busy.has(p)) continue;
      while (published * perMessage - done() < window * perMessage) {
        published += BATCH;
        if (!p.socket.write(batch)) {
          busy.add(p);
          p.socket.once("drain", () => {
            busy.delete(p);
            kick();
          });
          break;
        }
      }
    }
  };
  const stop = (): void => {
    stopped = true;
  };
  return { published: () => published, stop, kick };
}

async function throughput(ack: boolean): Promise<Result> {
  const queue = `bench-${ack ? "ack" : "noack"}`;
  const setup = await BenchConnection.open(port);
  await declareQueue(setup, queue);
  let delivered = 0;
  let p: ReturnType<typeof pump> | undefined;
  const cons = await consumer(queue, { ack, prefetch: ack ? 100 : 0 }, () => {
    delivered++;
    if ((delivered & 63) === 0) p?.kick();
  });
  const pubs = await Promise.all([0, 1, 2, 3].map(() => BenchConnection.open(port)));
  const batch = repeat(publishFrames(1, "", queue, body), BATCH);
  p = pump(pubs, batch, 1, WINDOW, () => delivered);
  p.kick();
  const w = await window(() => delivered);
  p.stop();
  for (const c of [...pubs, cons, setup]) await c.close();
  return {
    scenario: ack ? "manual-ack" : "no-ack",
    value: w.rate,
    unit: "msg/s",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: {},
  };
}

async function confirms(): Promise<Result> {
  const queue = "bench-confirms";
  const setup = await BenchConnection.open(port);
  await declareQueue(setup, queue, true);
  const pubs = await Promise.all([0, 1, 2, 3].map(() => BenchConnection.open(port)));
  let confirmed = 0;
  let nacked = 0;
  const frames = publishFrames(1, "", queue, body, { deliveryMode: 2 });
  const WINDOW = 256;
  let stopped = false;
  for (const p of pubs) {
    await p.call(method(1, "confirm.select"), "confirm.select-ok");
    let seq = 0;
    let acked = 0;
    const top = (): void => {
      if (stopped) return;
      const n = WINDOW - (seq - acked);
      if (n < BATCH) return;
      const k = Math.floor(n / BATCH) * BATCH;
      p.socket.write(repeat(frames, k));
      seq += k;
    };
    p.onMethod = (cls, m, buf, at) => {
      if (cls !== 60 || (m !== 80 && m !== 120)) return;
      const tag = buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
      const multiple = (buf[at + 8]! & 1) !== 0;
      const settled = multiple ? tag - acked : 1;
      if (m === 120) nacked += settled;
      else confirmed += settled;
      acked = multiple ? tag : acked + 1;
    };
    p.onChunkEnd = top;
    top();
  }
  const w = await window(() => confirmed);
  stopped = true;
  const depth =
    (
      await setup.call(
        method(1, "queue.declare", { queue, durable: true, passive: true }),
        "queue.declare-ok",
      )
    ).args.messageCount ?? 0;
  await setup.call(method(1, "queue.delete", { queue }), "queue.delete-ok");
  for (const c of [...pubs, setup]) await c.close();
  return {
    scenario: "confirms",
    value: w.rate,
    unit: "confirmed msg/s",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: { nacked, queueDepth: depth },
  };
}

async function fanout(): Promise<Result> {
  const N = 16;
  const setup = await BenchConnection.open(port);
  let delivered = 0;
  let p: ReturnType<typeof pump> | undefined;
  const consumers: BenchConnection[] = [];
  for (let i = 0; i < N; i++) {
    const q = `bench-fan-${i}`;
    await declareQueue(setup, q);
    await setup.call(
      method(1, "queue.bind", { queue: q, exchange: "amq.topic", routingKey: "bench.fan.*" }),
      "queue.bind-ok",
    );
    consumers.push(
      await consumer(q, { ack: false }, () => {
        delivered++;
        if ((delivered & 255) === 0) p?.kick();
      }),
    );
  }
  const pub = await BenchConnection.open(port);
  p = pump(
    [pub],
    repeat(publishFrames(1, "amq.topic", "bench.fan.x", body), BATCH),
    N,
    WINDOW / N,
    () => delivered,
  );
  p.kick();
  const w = await window(() => delivered);
  p.stop();
  for (let i = 0; i < N; i++)
    await setup.call(method(1, "queue.delete", { queue: `bench-fan-${i}` }), "queue.delete-ok");
  for (const c of [pub, ...consumers, setup]) await c.close();
  return {
    scenario: "fanout16",
    value: w.rate,
    unit: "deliveries/s",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: {},
  };
}

async function latency(): Promise<Result> {
  const queue = "bench-latency";
  const setup = await BenchConnection.open(port);
  await declareQueue(setup, queue);
  const samples: number[] = [];
  let measuring = false;
  const cons = await BenchConnection.open(port);
  cons.onBody = (buf, start) => {
    if (measuring) samples.push((performance.now() - buf.readDoubleBE(start)) * 1000);
  };
  await cons.call(method(1, "basic.consume", { queue, consumerTag: "lat", noAck: true }), "basic.consume-ok");
  const pub = await BenchConnection.open(port);
  const frames = publishFrames(1, "", queue, body);
  const bodyAt = frames.length - 1 - BODY_SIZE;
  const RATE = 2000;
  const started = performance.now();
  let sent = 0;
  let stop = false;
  const tick = (): void => {
    if (stop) return;
    const due = Math.floor(((performance.now() - started) * RATE) / 1000);
    while (sent < due) {
      const f = Buffer.from(frames);
      f.writeDoubleBE(performance.now(), bodyAt);
      pub.socket.write(f);
      sent++;
    }
    setImmediate(tick);
  };
  tick();
  await sleep(WARMUP);
  const b0 = cpuMicros(brokerPid);
  const t0 = performance.now();
  measuring = true;
  await sleep(MEASURE);
  measuring = false;
  const dt = performance.now() - t0;
  stop = true;
  const cpu = ((cpuMicros(brokerPid) - b0) / 1000 / dt) * 100;
  for (const c of [pub, cons, setup]) await c.close();
  const sorted = Float64Array.from(samples).sort();
  return {
    scenario: "latency",
    value: quantile(sorted, 0.5),
    unit: "µs p50",
    brokerCpuPct: cpu,
    genCpuPct: 0,
    extras: { p99: Math.round(quantile(sorted, 0.99)), samples: samples.length },
  };
}

async function idle(): Promise<Result> {
  const N = 2000;
  const before = rssKiB(brokerPid);
  const conns: BenchConnection[] = [];
  for (let i = 0; i < N; i += 50) {
    conns.push(
      ...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => BenchConnection.open(port)))),
    );
  }
  await sleep(1000);
  const after = rssKiB(brokerPid);
  for (const c of conns) await c.close();
  return {
    scenario: "idle",
    value: (after - before) / N,
    unit: "KiB/conn",
    brokerCpuPct: 0,
    genCpuPct: 0,
    extras: { connections: N, rssBeforeKiB: before, rssAfterKiB: after },
  };
}

const runners: Record<ScenarioId, () => Promise<Result>> = {
  "no-ack": () => throughput(false),
  "manual-ack": () => throughput(true),
  confirms,
  fanout16: fanout,
  latency,
  idle,
};

const result = await runners[scenario]();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
