/**
 * Hot-path microbenchmarks: decode, encode (ours and mqtt-packet), topic matching, Router.publish.
 *
 *   npm run bench:micro                                  # build, then 3 rounds, each benchmark in its own process
 *   node dist/bench/micro/run.js --filter decode --rounds 5
 *   node dist/bench/micro/run.js --quick --no-isolate    # one round in this process (~20 s)
 *
 * Flags: --filter REGEX (on id and description), --rounds N (3), --samples N per round (5),
 * --sample-ms MS (100), --warmup-ms MS (300), --quick (1 round, 3 samples of 50 ms, 150 ms warm-up),
 * --no-isolate (all in this process; faster, but benchmarks share JIT feedback and heap),
 * --out FILE (also write the Markdown report), --list.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { codecBenches } from "./codec.js";
import {
  type Bench,
  consumeSink,
  fmt,
  loadAverage,
  type MeasureOptions,
  measure,
  type Result,
  summarize,
  table,
} from "./harness.js";
import { routerBenches } from "./router.js";
import { topicBenches } from "./topics.js";

interface Options extends MeasureOptions {
  filter: RegExp | undefined;
  rounds: number;
  isolate: boolean;
  out: string | undefined;
  list: boolean;
  child: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    filter: undefined,
    rounds: 3,
    samples: 5,
    sampleMs: 100,
    warmupMs: 300,
    isolate: true,
    out: undefined,
    list: false,
    child: undefined,
  };
  const num = (i: number) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i - 1]} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--filter") o.filter = new RegExp(argv[++i] ?? "", "i");
    else if (a === "--rounds") o.rounds = num(++i);
    else if (a === "--samples") o.samples = num(++i);
    else if (a === "--sample-ms") o.sampleMs = num(++i);
    else if (a === "--warmup-ms") o.warmupMs = num(++i);
    else if (a === "--quick") Object.assign(o, { rounds: 1, samples: 3, sampleMs: 50, warmupMs: 150 });
    else if (a === "--no-isolate") o.isolate = false;
    else if (a === "--isolate") o.isolate = true;
    else if (a === "--out") o.out = argv[++i];
    else if (a === "--list") o.list = true;
    else if (a === "--child") o.child = argv[++i];
    else throw new Error(`unknown flag ${a} (see the top of bench/micro/run.ts)`);
  }
  return o;
}

function allBenches(): Bench[] {
  return [...codecBenches(), ...topicBenches(), ...routerBenches()];
}

/** Runs one benchmark in a fresh process: its own heap, its own JIT feedback. */
function runIsolated(b: Bench, o: Options): Result {
  const args = [
    fileURLToPath(import.meta.url),
    "--child",
    b.id,
    "--samples",
    String(o.samples),
    "--sample-ms",
    String(o.sampleMs),
    "--warmup-ms",
    String(o.warmupMs),
  ];
  const out = execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  const line = out.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as Result;
}

function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${process.platform} ${process.arch}`;
}

function report(benches: Bench[], results: Map<string, Result[]>, o: Options, loads: string[]): string {
  const lines: string[] = [];
  lines.push(`Machine: ${machine()}`);
  lines.push(`Date: ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC`);
  lines.push(
    `Settings: ${o.rounds} round(s) × ${o.samples} samples of ~${o.sampleMs} ms, warm-up ${o.warmupMs} ms, ` +
      `${o.isolate ? "one process per benchmark per round" : "one process"}; load average (1/5/15 min) ${loads.join(" → ")}`,
  );
  lines.push(
    "Columns: median ns per unit over all samples of all rounds, its inverse, the fastest and slowest sample, " +
      "(max - min) / median, each round's median, and process CPU time / wall time while sampling " +
      "(under ~100% means the process was preempted; GC threads can push it over).",
  );
  lines.push("");
  const rows: string[][] = [];
  const medians = new Map<string, number>();
  for (const b of benches) {
    const rs = results.get(b.id) ?? [];
    if (rs.length === 0) continue;
    const s = summarize(rs.flatMap((r) => r.samples));
    medians.set(b.id, s.median);
    const perRound = rs.map((r) => fmt(summarize(r.samples).median)).join(" / ");
    const cpu = summarize(rs.map((r) => r.cpuPct)).median;
    rows.push([
      b.group,
      b.case,
      b.impl,
      fmt(s.median),
      `${fmt(1e9 / s.median)}/s`,
      `${fmt(s.min)}–${fmt(s.max)}`,
      `${s.spreadPct.toFixed(0)}%`,
      perRound,
      `${cpu.toFixed(0)}%`,
      b.unit,
      b.note ?? "",
    ]);
  }
  lines.push(
    table(
      [
        "group",
        "case",
        "impl",
        "ns/unit (median)",
        "units/s",
        "min–max ns",
        "spread",
        "round medians",
        "CPU",
        "unit",
        "note",
      ],
      rows,
    ),
  );
  // Codec comparison: the same case through both implementations.
  const cmp: string[][] = [];
  for (const b of benches) {
    if (b.impl !== "ours") continue;
    const theirs = benches.find((x) => x.impl === "mqtt-packet" && x.group === b.group && x.case === b.case);
    const ours = medians.get(b.id);
    const t = theirs && medians.get(theirs.id);
    if (theirs === undefined || ours === undefined || t === undefined) continue;
    // The same ratio per round (both sides ran close together in each round).
    const a = results.get(b.id) ?? [];
    const z = results.get(theirs.id) ?? [];
    const perRound = a
      .map((r, i) => (z[i] ? summarize(z[i].samples).median / summarize(r.samples).median : Number.NaN))
      .filter((x) => !Number.isNaN(x))
      .map((x) => x.toFixed(2))
      .join(" / ");
    cmp.push([b.group, b.case, fmt(ours), fmt(t), `${(t / ours).toFixed(2)}×`, perRound]);
  }
  if (cmp.length > 0) {
    lines.push("");
    lines.push("Codec: ns per packet, medians; mqtt-packet / ours is how many times faster ours is.");
    lines.push("");
    lines.push(table(["group", "case", "ours ns", "mqtt-packet ns", "mqtt-packet / ours", "per round"], cmp));
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const benches = allBenches();
  if (o.child !== undefined) {
    const b = benches.find((x) => x.id === o.child);
    if (!b) throw new Error(`no benchmark ${o.child}`);
    const r = await measure(b, o);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    if (consumeSink() === Number.NEGATIVE_INFINITY) process.stdout.write("\n");
    return;
  }
  const selected = benches.filter((b) => !o.filter || o.filter.test(`${b.id} ${b.case}`));
  if (o.list) {
    for (const b of selected) process.stdout.write(`${b.id}  ${b.case}\n`);
    return;
  }
  if (selected.length === 0) throw new Error("no benchmark matches --filter");
  const loads = [loadAverage()];
  process.stderr.write(`${selected.length} benchmarks × ${o.rounds} round(s); load average ${loads[0]}\n`);
  const results = new Map<string, Result[]>();
  for (let round = 0; round < o.rounds; round++) {
    // Alternate the order, so neither side of a comparison always runs first.
    const order = round % 2 === 0 ? selected : [...selected].reverse();
    for (const b of order) {
      const r = o.isolate ? runIsolated(b, o) : await measure(b, o);
      const list = results.get(b.id) ?? [];
      list.push(r);
      results.set(b.id, list);
      process.stderr.write(
        `  round ${round + 1} ${b.id.padEnd(34)} ${fmt(summarize(r.samples).median).padStart(7)} ns/${b.unit}\n`,
      );
    }
    loads.push(loadAverage());
  }
  const text = report(selected, results, o, loads);
  process.stdout.write(`${text}\n`);
  if (o.out) writeFileSync(o.out, `${text}\n`);
  if (consumeSink() === Number.NEGATIVE_INFINITY) process.stdout.write("\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
