/**
 * The benchmark driver (`npm run bench`): for each round, each scenario, each broker in turn
 * (A B C A B C …), starts the broker pinned to core 1, runs the generator process pinned to core 0,
 * stops the broker. Prints each run as it happens, then the per-scenario detail and the summary table.
 *
 * Flags: --rounds N (3) --scenarios a,b --brokers x,y --quick --warmup MS --measure MS
 *        --no-reflector --out FILE (also write the Markdown report there)
 * Environment: BENCH_SWITCHBOARD_NODE_ARGS adds node flags to the Switchboard process (e.g. --cpu-prof).
 */

import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { BROKERS, type BrokerName, MOSQUITTO, startBroker } from "./brokers.js";
import { detail, fmt, type Results, summary } from "./report.js";
import type { ScenarioContext, ScenarioResult } from "./scenario.js";
import { SCENARIOS } from "./scenarios/index.js";

interface Options {
  rounds: number;
  scenarios: string[];
  brokers: BrokerName[];
  quick: boolean;
  warmupMs: number;
  measureMs: number;
  reflector: boolean;
  out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes("--quick");
  const all = Object.keys(SCENARIOS);
  const scenarios = get("--scenarios")?.split(",") ?? all;
  for (const s of scenarios) {
    if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}; known: ${all.join(", ")}`);
  }
  const brokers = (get("--brokers")?.split(",") ?? [...BROKERS]) as BrokerName[];
  for (const b of brokers) {
    if (![...BROKERS, "reflector"].includes(b)) throw new Error(`unknown broker ${b}`);
  }
  return {
    rounds: Number(get("--rounds") ?? (quick ? 1 : 3)),
    scenarios,
    brokers,
    quick,
    warmupMs: Number(get("--warmup") ?? (quick ? 300 : 1000)),
    measureMs: Number(get("--measure") ?? (quick ? 1000 : 3000)),
    reflector: !argv.includes("--no-reflector"),
    out: get("--out"),
  };
}

function hasTaskset(): boolean {
  try {
    execFileSync("which", ["taskset"], { stdio: "ignore" });
    return os.availableParallelism() >= 2;
  } catch {
    return false;
  }
}

/** Runs the generator process (pinned to `core`) and parses its one-line JSON result. */
function runGenerator(
  ctx: ScenarioContext & { scenario: string },
  core: number | undefined,
): Promise<ScenarioResult> {
  const argv = [process.execPath, "dist/bench/gen.js", JSON.stringify(ctx)];
  const full = core === undefined ? argv : ["taskset", "-c", String(core), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0] as string, full.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim()) as ScenarioResult);
      else reject(new Error(`generator exited ${code}: ${err.trim().slice(-2000)}`));
    });
  });
}

export function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(
    existsSync("/proc/cpuinfo") ? execFileSync("cat", ["/proc/cpuinfo"], { encoding: "utf8" }) : "",
  )?.[1];
  let mosq = "not installed";
  try {
    mosq = execFileSync(MOSQUITTO, ["-h"], { encoding: "utf8" }).split("\n")[0] ?? "";
  } catch (e) {
    // `mosquitto -h` exits 3 after printing its version.
    const out = (e as { stdout?: string }).stdout;
    if (out) mosq = out.split("\n")[0] ?? "";
  }
  return `${os.availableParallelism()} CPUs (${cpu ?? "unknown"}), Node ${process.version}, ${mosq}`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const pin = hasTaskset();
  const genCore = pin ? 0 : undefined;
  const brokerCore = pin ? 1 : undefined;
  if (!pin) process.stderr.write("warning: no taskset or < 2 CPUs: broker and generator share cores\n");
  let brokers = opts.brokers;
  if (brokers.includes("mosquitto") && !existsSync(MOSQUITTO)) {
    process.stderr.write(`warning: ${MOSQUITTO} not found, skipping Mosquitto\n`);
    brokers = brokers.filter((b) => b !== "mosquitto");
  }
  const started = Date.now();
  const results: Results = {};
  const labels: Record<string, string> = {};
  let port = 21000 + (process.pid % 2000) * 4;
  for (let round = 1; round <= opts.rounds; round++) {
    for (const id of opts.scenarios) {
      const def = SCENARIOS[id];
      if (!def) continue;
      labels[id] = def.label;
      const order: BrokerName[] = [...brokers];
      // The reflector shows the generator's ceiling; once (round 1) is enough and saves minutes.
      if (opts.reflector && round === 1 && def.reflectable && !order.includes("reflector"))
        order.push("reflector");
      for (const name of order) {
        port = port >= 29990 ? 21000 : port + 1;
        const broker = await startBroker(name, port, brokerCore);
        let result: ScenarioResult | undefined;
        try {
          result = await runGenerator(
            {
              scenario: id,
              port,
              brokerPid: broker.pid,
              warmupMs: opts.warmupMs,
              measureMs: opts.measureMs,
              quick: opts.quick,
            },
            genCore,
          );
        } catch (err) {
          process.stderr.write(`round ${round} ${id} ${name}: ${(err as Error).message}\n`);
        } finally {
          await broker.stop();
        }
        if (!result) continue;
        const perBroker = results[id] ?? {};
        results[id] = perBroker;
        perBroker[name] = [...(perBroker[name] ?? []), result];
        const cpu = result.messages > 0 ? result.brokerCpuUs / result.messages : Number.NaN;
        process.stdout.write(
          `round ${round} ${id.padEnd(16)} ${name.padEnd(11)} ${fmt(result.value).padStart(7)} ${result.unit.padEnd(
            12,
          )} broker ${fmt(cpu)} µs/msg, generator ${fmt(result.genCpuPct)}% CPU, lost ${result.lost}, dup ${result.dup}\n`,
        );
      }
    }
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const columns = [...brokers, ...(opts.reflector ? ["reflector"] : [])];
  const report = [
    `Machine: ${machine()}`,
    `Rounds: ${opts.rounds}, warm-up ${opts.warmupMs} ms, window ${opts.measureMs} ms, broker on core ${
      brokerCore ?? "any"
    }, generator on core ${genCore ?? "any"}, total ${minutes} min`,
    "",
    "## Summary (median, min–max)",
    "",
    summary(results, labels, columns),
    "",
    "## Per scenario",
    "",
    ...Object.entries(results).map(([id, rs]) => detail(id, labels[id] ?? id, rs)),
  ].join("\n");
  process.stdout.write(`\n${report}\n`);
  if (opts.out) writeFileSync(opts.out, `${report}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
