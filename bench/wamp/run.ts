/**
 * The WAMP benchmark: Switchboard and fox-wamp side by side, in interleaved rounds, each router
 * pinned to core 1 and the generator (bench/wamp/gen.ts, hand-built WAMP JSON over `ws`) to core 0.
 *
 *   npm run bench:wamp                                    # 3 rounds of every scenario
 *   node dist/bench/wamp/run.js --rounds 1 --scenarios rpc-rtt,rpc-inflight --out FILE
 *
 * fox-wamp is installed on demand into bench/wamp/peer (npm, --ignore-scripts: its optional SQLite
 * storage is not used), so it is never a dependency of Switchboard itself.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startPinned } from "../brokers.js";
import { max, median, min } from "../stats.js";
import { SCENARIOS } from "./gen.js";

type RouterName = "switchboard" | "fox-wamp";
const ROUTERS: readonly RouterName[] = ["switchboard", "fox-wamp"];

const LABELS: Record<string, string> = {
  "rpc-inflight": "RPC calls/s, 1 caller, 100 in flight, 1 callee",
  "rpc-shared": "RPC calls/s, 4 callers × 25 in flight, shared registration (2 callees)",
  "pubsub-1-1": "PubSub events/s, 1 publisher → 1 subscriber",
  "pubsub-1-16": "PubSub deliveries/s, 1 publisher → 16 subscribers",
  "rpc-rtt": "sequential RPC round trip, p50 ms (WebSocket/JSON)",
  "idle-memory": "router memory per idle session, KiB",
};

function args(): { rounds: number; scenarios: string[]; out?: string; warmup: number; measure: number } {
  const a = process.argv.slice(2);
  const get = (n: string) => {
    const i = a.indexOf(n);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    rounds: Number(get("--rounds") ?? 3),
    scenarios: get("--scenarios")?.split(",") ?? Object.keys(SCENARIOS),
    out: get("--out"),
    warmup: Number(get("--warmup") ?? 1000),
    measure: Number(get("--measure") ?? 3000),
  };
}

function ensureFoxWamp(): void {
  if (existsSync("bench/wamp/peer/node_modules/fox-wamp/package.json")) return;
  console.log("installing fox-wamp into bench/wamp/peer ...");
  execFileSync(
    "npm",
    ["install", "--prefix", "bench/wamp/peer", "--ignore-scripts", "--no-audit", "--no-fund"],
    {
      stdio: "inherit",
    },
  );
}

function routerArgv(name: RouterName, port: number, dir: string): string[] {
  if (name === "fox-wamp") return [process.execPath, "dist/bench/wamp/fox-server.js", String(port)];
  return [
    process.execPath,
    "--max-semi-space-size=4", // as `npm start` and the bin run it
    // e.g. BENCH_SWITCHBOARD_NODE_ARGS=--cpu-prof to profile the router
    ...(process.env.BENCH_SWITCHBOARD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    "dist/src/cli/main.js",
    "start",
    "--xmpp-port",
    "off",
    "--coap-port",
    "off",
    "--store",
    "memory",
    "--mqtt-port",
    "off",
    "--wamp-port",
    "off",
    "--amqp-port",
    "off",
    "--stomp-port",
    "off",
    "--http-port",
    String(port),
    "--log-level",
    "warn",
    "--data-dir",
    dir,
  ];
}

function runGen(
  scenario: string,
  url: string,
  pid: number,
  core: number | undefined,
  o: ReturnType<typeof args>,
) {
  const argv = [
    process.execPath,
    "dist/bench/wamp/gen.js",
    scenario,
    url,
    String(pid),
    "--warmup",
    String(o.warmup),
    "--measure",
    String(o.measure),
  ];
  const full = core === undefined ? argv : ["taskset", "-c", String(core), ...argv];
  return new Promise<Record<string, number>>((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`generator exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!));
    });
  });
}

async function main(): Promise<void> {
  const o = args();
  ensureFoxWamp();
  const pinned = cpus().length >= 2;
  const [genCore, routerCore] = pinned ? [0, 1] : [undefined, undefined];
  console.log(pinned ? "routers on core 1, generator on core 0" : "one CPU: running unpinned");
  const results: Record<string, Record<RouterName, Array<Record<string, number>>>> = {};
  // Below the kernel's ephemeral range (32768+), so no client socket of another process holds it.
  let port = 30000 + (process.pid % 500) * 4;
  for (let round = 1; round <= o.rounds; round++) {
    for (const sc of o.scenarios) {
      for (const router of ROUTERS) {
        const dir = mkdtempSync(join(tmpdir(), `bench-wamp-${router}-`));
        port = port >= 32700 ? 30000 : port + 1;
        const r = await startPinned(router, routerArgv(router, port, dir), port, routerCore, dir);
        const url = router === "switchboard" ? `ws://127.0.0.1:${port}/ws` : `ws://127.0.0.1:${port}/`;
        try {
          const m = await runGen(sc, url, r.pid, genCore, o);
          results[sc] ??= { switchboard: [], "fox-wamp": [] };
          results[sc][router].push(m);
          console.log(`round ${round} ${sc} ${router}: ${JSON.stringify(m)}`);
        } finally {
          await r.stop();
        }
      }
    }
  }
  const report = renderReport(results, o.rounds, pinned);
  console.log(`\n${report}`);
  if (o.out) writeFileSync(o.out, report);
}

function renderReport(
  results: Record<string, Record<RouterName, Array<Record<string, number>>>>,
  rounds: number,
  pinned: boolean,
): string {
  const f = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x >= 10 ? 1 : 3));
  const lines = [
    `${rounds} interleaved round(s), medians (min–max); ${pinned ? "routers pinned to core 1, generator to core 0" : "unpinned"}.`,
    "",
    "| scenario | Switchboard | fox-wamp | Switchboard / fox-wamp | router CPU % (Switchboard / fox-wamp) | router CPU µs per op (Switchboard / fox-wamp) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const [sc, byRouter] of Object.entries(results)) {
    const key = sc === "rpc-rtt" ? "p50" : "rate";
    const col = (r: RouterName) => {
      const xs = (byRouter[r] ?? []).map((m) => m[key]!);
      return xs.length ? `${f(median(xs))} (${f(min(xs))}–${f(max(xs))})` : "—";
    };
    const med = (r: RouterName, k = key) => median((byRouter[r] ?? []).map((m) => m[k]!));
    const ratio =
      sc === "rpc-rtt" || sc === "idle-memory"
        ? med("fox-wamp") / med("switchboard")
        : med("switchboard") / med("fox-wamp");
    const cpu = `${med("switchboard", "cpuPct").toFixed(0)} / ${med("fox-wamp", "cpuPct").toFixed(0)}`;
    // CPU per operation is what a router costs, whoever was the bottleneck of the run.
    const perOp = (r: RouterName) => (med(r, "cpuPct") * 1e4) / med(r, "rate");
    const us =
      sc === "idle-memory" ? "—" : `${perOp("switchboard").toFixed(1)} / ${perOp("fox-wamp").toFixed(1)}`;
    const extra =
      sc === "rpc-rtt" ? ` (p99 ${f(med("switchboard", "p99"))} / ${f(med("fox-wamp", "p99"))})` : "";
    lines.push(
      `| ${LABELS[sc] ?? sc} | ${col("switchboard")} | ${col("fox-wamp")} | ${ratio.toFixed(2)}×${extra} | ${cpu} | ${us} |`,
    );
  }
  lines.push(
    "",
    "For round trip and memory the ratio is fox-wamp / Switchboard (higher: Switchboard better).",
    `Load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")} (other processes on the machine make runs noisy).`,
  );
  return lines.join("\n");
}

void main();
