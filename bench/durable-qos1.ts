/**
 * Durable QoS 1 throughput, Switchboard (SQLite store, durability normal, full and relaxed) side by side with
 * Mosquitto (persistence true), in interleaved rounds; medians and Switchboard/Mosquitto ratios.
 *
 * One round, per broker, on a fresh data directory:
 *   1. a persistent subscriber (MQTT 3.1.1, clean session 0) subscribes to the topic at QoS 1 and
 *      disconnects;
 *   2. a publisher sends N QoS 1 messages (64-byte payload) keeping `window` unacknowledged: the
 *      publish rate is PUBACKs per second, from the first PUBLISH to the Nth PUBACK, while every
 *      message is queued for the offline subscriber;
 *   3. the subscriber comes back (same session) and acknowledges each message: the drain rate is
 *      messages per second, from its CONNECT to the Nth message.
 * Before step 2, one untimed cycle of `--warmup` messages (default 20,000) is published and drained,
 * for every broker alike. Switchboard runs on V8, which compiles a code path only once it is hot:
 * without the cycle, the timed drain would start on code the publish phase never ran, and about the
 * first 3,000 messages (some 40 ms of a 0.3 s drain) would run while V8 compiles, on the broker's
 * one core. A broker that has been running has done that long before. `--warmup 0` measures a
 * broker that has just started.
 * Clients are raw MQTT over node:net with the project's codec (bench/durable-common.ts), not MQTT.js.
 * With taskset and 2+ cores the broker runs on core 1 and this load generator on core 0.
 *
 * What the brokers promise differs: Switchboard "normal" (the default) acknowledges after the SQLite
 * commit that holds the message (survives SIGKILL of the broker); "full" also fsyncs that commit
 * (survives an OS crash and power loss too); "relaxed" commits every second;
 * Mosquitto acknowledges from memory and writes its persistence file on autosave (default every
 * 1800 s) and at shutdown, so a SIGKILL loses everything since the last save.
 *
 *   npm run bench:durable -- --messages 100000 --rounds 3 --window 100 --timeout 120 --warmup 20000
 *
 * Environment: BENCH_SWITCHBOARD_NODE_ARGS adds node flags to the Switchboard process (e.g. --cpu-prof);
 * BENCH_TARGETS chooses the brokers (default "normal,full,relaxed,mosquitto"; also "memory").
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { encode, type Packet } from "../src/protocols/mqtt/codec/index.js";
import {
  cpuMs,
  freePort,
  HAS_TASKSET,
  median,
  numberFlags,
  type Proc,
  pinned,
  pinSelf,
  RawConnection,
  rssKiB,
  SWITCHBOARD_MAIN,
  startProcess,
  waitOutput,
  waitPort,
} from "./durable-common.js";

const opts = numberFlags(process.argv.slice(2), {
  messages: 100_000,
  rounds: 3,
  window: 100,
  timeout: 120,
  warmup: 20_000,
});
const MOSQUITTO = "/usr/sbin/mosquitto";
const TOPIC = "bench/durable/qos1";
const PAYLOAD = Buffer.alloc(64, 0x61);
const SUB_ID = "bench-durable-sub";

interface Running {
  port: number;
  proc: Proc;
}

interface Target {
  name: string;
  start(dir: string, pin: boolean): Promise<Running>;
}

function switchboard(durability: "full" | "normal" | "relaxed" | "memory"): Target {
  const store = durability === "memory" ? "store: memory" : `durability: ${durability}`;
  return {
    name: durability === "memory" ? "switchboard (memory store)" : `switchboard (sqlite, ${durability})`,
    async start(dir, pin) {
      const config = join(dir, "switchboard.yaml");
      await writeFile(
        config,
        `${store}\nmqtt:\n  maxQueuedMessages: ${Math.max(opts.messages, opts.warmup) + 1000}\n  maxInflight: ${Math.max(100, opts.window)}\n`,
      );
      const [cmd, args] = pinned(pin, process.execPath, [
        // The V8 flag of the `switchboard` bin and `npm start` (as bench/brokers.ts): what users run.
        "--max-semi-space-size=4",
        ...(process.env.BENCH_SWITCHBOARD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        SWITCHBOARD_MAIN,
        "start",
        "--mqtt-port",
        "0",
        "--http-port",
        "off",
        "--wamp-port",
        "off",
        "--amqp-port",
        "off",
        "--stomp-port",
        "off",
        "--xmpp-port",
        "off",
        "--coap-port",
        "off",
        "--data-dir",
        join(dir, "data"),
        "--config",
        config,
      ]);
      const proc = startProcess(cmd, args);
      const m = await waitOutput(proc, /mqtt listening.* port=(\d+)/, 30_000);
      return { port: Number(m[1]), proc };
    },
  };
}

const mosquitto: Target = {
  name: "mosquitto (persistence true)",
  async start(dir, pin) {
    const port = await freePort();
    const conf = join(dir, "mosquitto.conf");
    await writeFile(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence true",
        `persistence_location ${dir}/`,
        `max_queued_messages ${Math.max(opts.messages, opts.warmup) + 1000}`,
        // The same outgoing window as Switchboard's maxInflight (Mosquitto's default is 20).
        `max_inflight_messages ${Math.max(100, opts.window)}`,
        "",
      ].join("\n"),
    );
    const [cmd, args] = pinned(pin, MOSQUITTO, ["-c", conf]);
    const proc = startProcess(cmd, args);
    await waitPort(port, 10_000);
    return { port, proc };
  },
};

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_r, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no result within ${opts.timeout} s`)),
        opts.timeout * 1000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

async function subscribeAndLeave(port: number): Promise<void> {
  const { conn } = await RawConnection.open(port, SUB_ID, false);
  const suback = conn.next("suback", 10_000);
  conn.send({
    cmd: "subscribe",
    packetId: 1,
    subscriptions: [{ topic: TOPIC, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
  });
  const ack = await suback;
  if (ack.cmd !== "suback" || ack.reasonCodes[0] !== 1) throw new Error("subscription not granted at QoS 1");
  await conn.disconnect();
}

/** Publishes n QoS 1 messages with `window` in flight; resolves with the elapsed ms. */
async function publish(port: number, n: number): Promise<number> {
  const { conn } = await RawConnection.open(port, "bench-durable-pub", true);
  // One encoded PUBLISH; each message is a copy with its packet id patched in.
  const template = encode(
    { cmd: "publish", topic: TOPIC, payload: PAYLOAD, qos: 1, retain: false, dup: false, packetId: 1 },
    4,
  );
  const idOffset = template.length - PAYLOAD.length - 2;
  let nextId = 1;
  let sent = 0;
  let acked = 0;
  const sendBatch = (k: number): void => {
    if (k <= 0) return;
    const buf = Buffer.allocUnsafe(template.length * k);
    for (let i = 0; i < k; i++) {
      template.copy(buf, i * template.length);
      buf.writeUInt16BE(nextId, i * template.length + idOffset);
      nextId = nextId === 0xffff ? 1 : nextId + 1;
    }
    sent += k;
    conn.write(buf);
  };
  const t0 = performance.now();
  const done = new Promise<number>((resolve, reject) => {
    conn.onPackets = (ps: Packet[]) => {
      let k = 0;
      for (const p of ps) {
        if (p.cmd !== "puback") continue;
        if ((p.reasonCode ?? 0) >= 0x80) reject(new Error(`PUBACK ${p.reasonCode}`));
        k++;
      }
      acked += k;
      if (acked >= n) resolve(performance.now() - t0);
      else sendBatch(Math.min(k, n - sent));
    };
    conn.closed.then(() => reject(new Error(`publisher disconnected after ${acked} acks`)));
  });
  sendBatch(Math.min(opts.window, n));
  try {
    return await withTimeout(done, "publish");
  } finally {
    await conn.disconnect();
  }
}

/** The subscriber returns and acknowledges n messages; resolves with the elapsed ms. */
async function drain(port: number, n: number): Promise<number> {
  const t0 = performance.now();
  const { conn, sessionPresent } = await RawConnection.open(port, SUB_ID, false);
  if (!sessionPresent) throw new Error("the subscriber's session is gone");
  let got = 0;
  const done = new Promise<number>((resolve, reject) => {
    const onPackets = (ps: Packet[]): void => {
      const acks: Buffer[] = [];
      for (const p of ps) {
        if (p.cmd !== "publish") continue;
        if (p.payload.length !== PAYLOAD.length) reject(new Error("unexpected payload"));
        got++;
        acks.push(encode({ cmd: "puback", packetId: p.packetId! }, 4));
      }
      if (acks.length > 0) conn.write(Buffer.concat(acks));
      if (got >= n) resolve(performance.now() - t0);
    };
    conn.onPackets = onPackets;
    onPackets(conn.early);
    conn.closed.then(() => reject(new Error(`subscriber disconnected after ${got} messages`)));
  });
  try {
    return await withTimeout(done, "drain");
  } finally {
    await conn.disconnect();
  }
}

interface Sample {
  publishRate: number;
  drainRate: number;
  /** Broker CPU time (user + system) per message in each phase, µs: steadier than rates on a busy machine. */
  publishCpuUs: number;
  drainCpuUs: number;
  rssMiB: number;
}

async function runOnce(target: Target, pin: boolean): Promise<Sample> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-durable-"));
  let running: Running | undefined;
  try {
    running = await target.start(dir, pin);
    const pid = running.proc.child.pid!;
    await subscribeAndLeave(running.port);
    // One untimed cycle first, as a broker that has been running has done: without it the timed
    // drain of a JIT-compiled broker includes V8 compiling its drain path (see --warmup above).
    if (opts.warmup > 0) {
      await publish(running.port, opts.warmup);
      await drain(running.port, opts.warmup);
    }
    const cpu0 = cpuMs(pid);
    const publishMs = await publish(running.port, opts.messages);
    const cpu1 = cpuMs(pid);
    const rssMiB = rssKiB(pid) / 1024;
    const drainMs = await drain(running.port, opts.messages);
    const cpu2 = cpuMs(pid);
    return {
      publishRate: (opts.messages / publishMs) * 1000,
      drainRate: (opts.messages / drainMs) * 1000,
      publishCpuUs: ((cpu1 - cpu0) * 1000) / opts.messages,
      drainCpuUs: ((cpu2 - cpu1) * 1000) / opts.messages,
      rssMiB,
    };
  } finally {
    await running?.proc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const cores = cpus().length;
  const pin = pinSelf(cores);
  // BENCH_TARGETS picks a subset, e.g. "normal,mosquitto"; "memory" (no persistence, not part of the
  // comparison) shows the ceiling the JavaScript path alone allows.
  const all = { normal: switchboard("normal"), full: switchboard("full"), relaxed: switchboard("relaxed") };
  const wanted = (process.env.BENCH_TARGETS ?? "normal,full,relaxed,mosquitto").split(",");
  const targets = wanted.map((w) => {
    if (w === "mosquitto") return mosquitto;
    if (w === "memory") return switchboard("memory");
    const t = all[w as keyof typeof all];
    if (!t) throw new Error(`BENCH_TARGETS: unknown target ${w}`);
    return t;
  });
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  process.stdout.write(
    `durable QoS 1: ${fmt(opts.messages)} messages of ${PAYLOAD.length} B, window ${opts.window}, ` +
      `after an untimed cycle of ${fmt(opts.warmup)}, ` +
      `${opts.rounds} interleaved rounds; ${cores} cores, ${
        pin
          ? "broker pinned to core 1, load generator to core 0"
          : `no pinning (taskset ${HAS_TASKSET ? "found" : "missing"})`
      }\n`,
  );
  for (let r = 1; r <= opts.rounds; r++) {
    for (const t of targets) {
      const s = await runOnce(t, pin);
      samples.get(t.name)!.push(s);
      process.stdout.write(
        `round ${r} ${t.name.padEnd(30)} publish ${fmt(s.publishRate).padStart(8)} msg/s   drain ${fmt(
          s.drainRate,
        ).padStart(
          8,
        )} msg/s   CPU ${s.publishCpuUs.toFixed(1)} / ${s.drainCpuUs.toFixed(1)} µs/msg   RSS ${s.rssMiB.toFixed(0)} MiB\n`,
      );
    }
  }
  const med = new Map(
    targets.map((t) => {
      const ss = samples.get(t.name)!;
      return [
        t.name,
        {
          publish: median(ss.map((s) => s.publishRate)),
          drain: median(ss.map((s) => s.drainRate)),
          rss: median(ss.map((s) => s.rssMiB)),
          publishCpu: median(ss.map((s) => s.publishCpuUs)),
          drainCpu: median(ss.map((s) => s.drainCpuUs)),
        },
      ];
    }),
  );
  // Without Mosquitto in the run, ratios are left out.
  const mq = med.get(mosquitto.name);
  const ratio = (x: number, base: number | undefined): string =>
    base === undefined ? "-" : `${(x / base).toFixed(2)}x`;
  const rows: string[][] = [
    [
      "broker",
      "publish msg/s",
      "drain msg/s",
      "CPU µs/msg publish",
      "CPU µs/msg drain",
      "RSS queued (MiB)",
      "publish ratio",
      "drain ratio",
    ],
  ];
  for (const t of targets) {
    const m = med.get(t.name)!;
    rows.push([
      t.name,
      fmt(m.publish),
      fmt(m.drain),
      m.publishCpu.toFixed(1),
      m.drainCpu.toFixed(1),
      m.rss.toFixed(0),
      ratio(m.publish, mq?.publish),
      ratio(m.drain, mq?.drain),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`\nmedians (ratio = broker / mosquitto)\n`);
  for (const r of rows) {
    process.stdout.write(
      `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
