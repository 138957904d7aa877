/**
 * A tiny microbenchmark harness: calibrate, warm up, then several timed samples with
 * process.hrtime.bigint; report the median and the spread in ns per unit of work.
 *
 * A benchmark's setup returns a runner that does `iterations` operations in its own loop and returns
 * a number derived from the work (summed into a sink, so nothing is optimised away). Keeping the loop
 * inside the benchmark keeps each hot loop monomorphic: a shared harness loop calling many different
 * closures would add a megamorphic call per operation to every figure.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export type Runner = (iterations: number) => number;

export interface Bench {
  /** Unique id, used by --filter and by the isolated runner. */
  id: string;
  group: "decode" | "encode" | "topic" | "retained" | "router";
  /** What is measured, the same text for every implementation of one comparison. */
  case: string;
  /** "ours" or "mqtt-packet" for codec comparisons; "" elsewhere. */
  impl: string;
  /** What one unit is (packet, match, publish, ...); results are per unit. */
  unit: string;
  /** Units of work per runner iteration (e.g. packets per chunk). */
  unitsPerOp: number;
  /** Extra information shown in the table (e.g. matches per call). */
  note?: string;
  setup(): Runner | Promise<Runner>;
}

export interface MeasureOptions {
  warmupMs: number;
  sampleMs: number;
  samples: number;
}

export interface Result {
  id: string;
  /** ns per unit, one per sample (all rounds pooled by the caller). */
  samples: number[];
  iterations: number;
  /** Process CPU time / wall time over the samples, in percent: well under 100 means preempted. */
  cpuPct: number;
  note?: string;
}

let sink = 0;
/** Keeps benchmark results alive; printed nowhere but read, so the work cannot be dropped. */
export function consumeSink(): number {
  return sink;
}

let gcFn: (() => void) | undefined;
/** A full GC between samples, so one sample does not pay for the garbage of the one before. */
function gc(): void {
  if (gcFn === undefined) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

function elapsedNs(run: Runner, iterations: number): number {
  const t0 = process.hrtime.bigint();
  sink += run(iterations);
  return Number(process.hrtime.bigint() - t0);
}

export async function measure(b: Bench, opts: MeasureOptions): Promise<Result> {
  const run = await b.setup();
  // Warm up for warmupMs, growing the call size until one call takes >= 10 ms. Calibrating on
  // cold (interpreted) code would size the samples far too small.
  const warmEnd = process.hrtime.bigint() + BigInt(opts.warmupMs * 1e6);
  let n = 1;
  let t = elapsedNs(run, n);
  while (process.hrtime.bigint() < warmEnd || t < 10e6) {
    if (t < 10e6 && n < 1 << 30) n *= 2;
    t = elapsedNs(run, n);
  }
  // Size a sample from the warm timing, then check it once more at full size.
  let iterations = Math.max(1, Math.round((n * opts.sampleMs * 1e6) / t));
  t = elapsedNs(run, iterations);
  iterations = Math.max(1, Math.round((iterations * opts.sampleMs * 1e6) / t));
  const samples: number[] = [];
  let wall = 0;
  let cpu = 0;
  for (let s = 0; s < opts.samples; s++) {
    gc();
    const c0 = process.cpuUsage();
    const ns = elapsedNs(run, iterations);
    const c = process.cpuUsage(c0);
    wall += ns;
    cpu += (c.user + c.system) * 1000;
    samples.push(ns / (iterations * b.unitsPerOp));
  }
  return { id: b.id, samples, iterations, cpuPct: (cpu / wall) * 100, note: b.note };
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in percent. */
  spreadPct: number;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const min = s[0];
  const max = s[s.length - 1];
  return { median, min, max, spreadPct: ((max - min) / median) * 100 };
}

/** 3 significant digits, with k/M/G for large numbers. */
export function fmt(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${trim(x / 1e9)}G`;
  if (abs >= 1e6) return `${trim(x / 1e6)}M`;
  if (abs >= 1e4) return `${trim(x / 1e3)}k`;
  return trim(x);
}

function trim(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A Markdown table with padded columns (readable as plain text too). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a"; // not Linux
  }
}
