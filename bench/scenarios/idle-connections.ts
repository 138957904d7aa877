/**
 * Idle connections: broker VmRSS before and after opening N connections (CONNECT/CONNACK, clean
 * session, keep-alive 0, no subscription), settled for a second; reports KiB per connection.
 */

import { closeAll, openClient, openMany } from "../client.js";
import { cpuMicros, rssKiB } from "../proc.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { sleep } from "../stats.js";

export async function idleConnections(ctx: ScenarioContext): Promise<ScenarioResult> {
  const count = ctx.quick ? 2000 : 10_000;
  await sleep(300);
  const before = rssKiB(ctx.brokerPid);
  const b0 = cpuMicros(ctx.brokerPid);
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  const clients = await openMany(count, 100, (i) => openClient(ctx.port, `idle-${i}`, undefined, 30_000));
  const seconds = (performance.now() - t0) / 1000;
  const brokerCpuUs = cpuMicros(ctx.brokerPid) - b0;
  const g = process.cpuUsage(g0);
  await sleep(1000);
  const after = rssKiB(ctx.brokerPid);
  await closeAll(clients, 10_000);
  return {
    value: (after - before) / count,
    unit: "KiB/conn",
    higherIsBetter: false,
    messages: count,
    seconds,
    brokerCpuUs,
    genCpuPct: ((g.user + g.system) / 1e6 / seconds) * 100,
    lost: 0,
    dup: 0,
    extra: { connections: count, rssBeforeKiB: before, rssAfterKiB: after, setupPerSec: count / seconds },
  };
}
