/**
 * Start-up time with a large backlog: fills a SQLite data directory with `--messages` queued QoS 1
 * deliveries (default 1,000,000, 64-byte payloads) spread over `--sessions` persistent sessions,
 * written directly through SqliteStore, then times `switchboard start` on it from spawn to the
 * "mqtt listening" log line, `--rounds` times (median), and reads the broker's RSS right after
 * start and once it has settled. With `--profile 1` one more start runs under --cpu-prof and the
 * profile is summarized (self time by function, and by source file).
 *
 *   npm run bench:startup -- --messages 1000000 --sessions 10 --rounds 3 --profile 1
 */
import { statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createMessage } from "../src/core/message.js";
import { SQLITE_FILE_NAME, SqliteStore } from "../src/store/sqlite-store.js";
import {
  median,
  numberFlags,
  pinned,
  pinSelf,
  rssKiB,
  SWITCHBOARD_MAIN,
  startProcess,
  waitOutput,
} from "./durable-common.js";

const opts = numberFlags(process.argv.slice(2), { messages: 1_000_000, sessions: 10, rounds: 3, profile: 0 });

async function fill(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const store = new SqliteStore({ dir: dataDir });
  const now = Date.now();
  for (let s = 0; s < opts.sessions; s++) {
    store.saveSession({
      clientId: `backlog-${s}`,
      protocol: "mqtt",
      expiryInterval: 7 * 24 * 3600,
      disconnectedAt: now,
      subscriptions: [
        { filter: "bench/startup/#", qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
  }
  const payload = Buffer.alloc(64, 0x62);
  const chunk = 50_000;
  for (let seq = 1; seq <= opts.messages; seq++) {
    const message = createMessage(`bench/startup/${seq % 100}`, payload, 1, false, {}, "bench-publisher");
    store.saveDelivery({
      clientId: `backlog-${seq % opts.sessions}`,
      seq,
      message,
      qos: 1,
      retain: false,
      state: "queued",
    });
    // One transaction per chunk: bounds the pending batch.
    if (seq % chunk === 0) await store.commit();
  }
  await store.close();
  return performance.now() - t0;
}

interface StartSample {
  ms: number;
  rssStartMiB: number;
  rssSettledMiB: number;
}

async function startOnce(dataDir: string, configFile: string, pin: boolean, nodeFlags: string[] = []) {
  const [cmd, args] = pinned(pin, process.execPath, [
    // The V8 flag of the `switchboard` bin and `npm start` (as the other benchmarks): what users run.
    "--max-semi-space-size=4",
    ...nodeFlags,
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
    dataDir,
    "--config",
    configFile,
  ]);
  const t0 = performance.now();
  const proc = startProcess(cmd, args);
  try {
    await waitOutput(proc, /mqtt listening.* port=(\d+)/, 600_000);
    const ms = performance.now() - t0;
    const pid = proc.child.pid!;
    const rssStartMiB = rssKiB(pid) / 1024;
    await new Promise((r) => setTimeout(r, 2000));
    const rssSettledMiB = rssKiB(pid) / 1024;
    return { ms, rssStartMiB, rssSettledMiB };
  } finally {
    await proc.stop(60_000);
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time per function and per file from a .cpuprofile, top entries. */
function summarizeProfile(p: CpuProfile): string {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    if (us === 0) continue;
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, "$1/") || "(native)";
    const fn = `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(url, (byFile.get(url) ?? 0) + us);
  }
  const total = (p.endTime - p.startTime) / 1000;
  const top = (m: Map<string, number>, k: number): string =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, us]) =>
          `  ${(us / 1000).toFixed(0).padStart(7)} ms  ${((us / 1000 / total) * 100).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join("\n");
  return `profile: ${total.toFixed(0)} ms from process start to exit (including 2 s idle after start)\nby function (self time):\n${top(byFn, 15)}\nby file (self time):\n${top(byFile, 10)}\n`;
}

async function main(): Promise<void> {
  const pin = pinSelf(cpus().length);
  const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-startup-"));
  try {
    const dataDir = join(dir, "data");
    const configFile = join(dir, "switchboard.yaml");
    await writeFile(configFile, `mqtt:\n  maxQueuedMessages: ${opts.messages + 1000}\n`);
    process.stdout.write(
      `start-up with ${opts.messages.toLocaleString("en-US")} queued QoS 1 messages (64 B) in ${opts.sessions} persistent sessions${
        pin ? "; broker pinned to core 1" : ""
      }\n`,
    );
    const fillMs = await fill(dataDir);
    const dbBytes = statSync(join(dataDir, SQLITE_FILE_NAME)).size;
    process.stdout.write(
      `filled in ${(fillMs / 1000).toFixed(1)} s; ${SQLITE_FILE_NAME} ${(dbBytes / 2 ** 20).toFixed(0)} MiB\n`,
    );
    const samples: StartSample[] = [];
    for (let r = 1; r <= opts.rounds; r++) {
      const s = await startOnce(dataDir, configFile, pin);
      samples.push(s);
      process.stdout.write(
        `start ${r}: ${(s.ms / 1000).toFixed(2)} s to "mqtt listening"; RSS ${s.rssStartMiB.toFixed(0)} MiB at start, ${s.rssSettledMiB.toFixed(0)} MiB 2 s later\n`,
      );
    }
    process.stdout.write(
      `median: ${(median(samples.map((s) => s.ms)) / 1000).toFixed(2)} s to "mqtt listening", RSS ${median(
        samples.map((s) => s.rssSettledMiB),
      ).toFixed(0)} MiB\n`,
    );
    // An empty data directory for comparison: the fixed cost of starting Node and the broker.
    const empty = await startOnce(join(dir, "empty"), configFile, pin);
    process.stdout.write(
      `empty data dir: ${(empty.ms / 1000).toFixed(2)} s, RSS ${empty.rssSettledMiB.toFixed(0)} MiB\n`,
    );
    if (opts.profile) {
      const profDir = join(dir, "prof");
      await startOnce(dataDir, configFile, pin, ["--cpu-prof", "--cpu-prof-dir", profDir]);
      const files = (await readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
      if (files.length === 0) process.stdout.write("no profile written\n");
      else {
        const prof = JSON.parse(await readFile(join(profDir, files[0]!), "utf8")) as CpuProfile;
        process.stdout.write(summarizeProfile(prof));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
