/** The measuring window of the AMQP generators (gen.ts for 0-9-1, gen10.ts for 1.0). */
import { performance } from "node:perf_hooks";
import { cpuMicros } from "../proc.js";
import { sleep } from "../stats.js";

export interface WindowResult {
  rate: number;
  brokerCpuPct: number;
  genCpuPct: number;
}

/**
 * Waits `warmupMs`, then counts `count()` over `measureMs`: the rate per second, the broker's CPU
 * (from /proc for `brokerPid`) and this generator's, both as a percentage of one core.
 */
export async function measureWindow(
  count: () => number,
  brokerPid: number,
  warmupMs: number,
  measureMs: number,
): Promise<WindowResult> {
  await sleep(warmupMs);
  const c0 = count();
  const b0 = cpuMicros(brokerPid);
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(measureMs);
  const dt = performance.now() - t0;
  const n = count() - c0;
  const b = cpuMicros(brokerPid) - b0;
  const g = process.cpuUsage(g0);
  return {
    rate: (n * 1000) / dt,
    brokerCpuPct: (b / 1000 / dt) * 100,
    genCpuPct: ((g.user + g.system) / 1000 / dt) * 100,
  };
}
