/** A measuring window: warm-up, then count, wall time, broker CPU and generator CPU over a fixed span. */

import { cpuMicros } from "./proc.js";
import type { ScenarioContext } from "./scenario.js";
import { sleep } from "./stats.js";

export interface Window {
  count: number;
  seconds: number;
  brokerCpuUs: number;
  genCpuPct: number;
}

/** Samples `count()` after the warm-up and again after the measuring span; I/O keeps running. */
export async function measureWindow(ctx: ScenarioContext, count: () => number): Promise<Window> {
  await sleep(ctx.warmupMs);
  const c0 = count();
  const t0 = performance.now();
  const b0 = ctx.brokerPid ? cpuMicros(ctx.brokerPid) : 0;
  const g0 = process.cpuUsage();
  await sleep(ctx.measureMs);
  const c1 = count();
  const t1 = performance.now();
  const b1 = ctx.brokerPid ? cpuMicros(ctx.brokerPid) : 0;
  const g = process.cpuUsage(g0);
  const seconds = (t1 - t0) / 1000;
  return {
    count: c1 - c0,
    seconds,
    brokerCpuUs: b1 - b0,
    genCpuPct: ((g.user + g.system) / 1e6 / seconds) * 100,
  };
}
