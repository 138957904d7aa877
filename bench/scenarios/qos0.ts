/** QoS 0 throughput scenarios: fan-in, fan-out, pairs and the 64 KiB stream share this runner. */

import { attach, closeAll, openClient, openMany, type RawClient } from "../client.js";
import { measureWindow } from "../measure.js";
import { PUBLISH, publishTemplate, repeat } from "../packets.js";
import { type CreditGroup, creditGroup, Pump, pump } from "../pump.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { sleep } from "../stats.js";

export interface GroupSpec {
  /** One publisher per topic. */
  pubTopics: string[];
  /** One subscriber per filter; every one receives every message of the group. */
  subFilters: string[];
  /** Messages in flight per group. */
  window: number;
}

export interface Qos0Spec {
  id: string;
  groups: GroupSpec[];
  payload: number;
  batchMsgs: number;
  /** Headline: deliveries/s, or MB/s of payload. */
  unit: "msg/s" | "deliveries/s" | "MB/s";
}

export async function runQos0(ctx: ScenarioContext, spec: Qos0Spec): Promise<ScenarioResult> {
  const all: RawClient[] = [];
  try {
    const groups: CreditGroup[] = [];
    for (const [gi, gs] of spec.groups.entries()) {
      const subs = await openMany(gs.subFilters.length, 16, (i) =>
        openClient(ctx.port, `${spec.id}-s${gi}-${i}`, { filter: gs.subFilters[i] as string, qos: 0 }),
      );
      all.push(...subs);
      const pubs = await openMany(gs.pubTopics.length, 16, (i) =>
        openClient(ctx.port, `${spec.id}-p${gi}-${i}`),
      );
      all.push(...pubs);
      const batches = gs.pubTopics.map((t) =>
        repeat(publishTemplate(t, spec.payload, 0).bytes, spec.batchMsgs),
      );
      const g = creditGroup(
        pubs.map((p) => p.sock),
        batches,
        spec.batchMsgs,
        subs.length,
        gs.window,
      );
      groups.push(g);
      for (const s of subs) {
        attach(
          s,
          false,
          (byte1) => {
            if (byte1 >> 4 === PUBLISH) g.delivered++;
          },
          () => pump(g),
        );
      }
      // Publishers receive nothing at QoS 0; drop whatever arrives.
      for (const p of pubs) attach(p, false, () => {});
    }
    const pumps = new Pump(groups);
    pumps.start();
    const win = await measureWindow(ctx, () => pumps.delivered());
    pumps.stop();
    const expected = (): number => groups.reduce((a, g) => a + g.sent * g.fanout, 0);
    for (let i = 0; i < 100 && pumps.delivered() < expected(); i++) await sleep(10);
    const rate = win.count / win.seconds;
    const value = spec.unit === "MB/s" ? (rate * spec.payload) / 1e6 : rate;
    return {
      value,
      unit: spec.unit,
      higherIsBetter: true,
      messages: win.count,
      seconds: win.seconds,
      brokerCpuUs: win.brokerCpuUs,
      genCpuPct: win.genCpuPct,
      lost: Math.max(0, expected() - pumps.delivered()),
      dup: 0,
      extra: { deliveriesPerSec: rate },
    };
  } finally {
    await closeAll(all);
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export const fanIn = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  runQos0(ctx, {
    id: "fanin",
    groups: [
      { pubTopics: range(16).map((i) => `bench/fanin/${i}`), subFilters: ["bench/fanin/+"], window: 8192 },
    ],
    payload: 64,
    batchMsgs: 32,
    unit: "msg/s",
  });

export const fanOut = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  runQos0(ctx, {
    id: "fanout",
    groups: [{ pubTopics: ["bench/fanout"], subFilters: range(64).map(() => "bench/fanout"), window: 512 }],
    payload: 64,
    batchMsgs: 32,
    unit: "deliveries/s",
  });

export const pairsQos0 = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  runQos0(ctx, {
    id: "pairs0",
    groups: range(32).map((i) => ({
      pubTopics: [`bench/pair0/${i}`],
      subFilters: [`bench/pair0/${i}`],
      window: 256,
    })),
    payload: 64,
    batchMsgs: 32,
    unit: "msg/s",
  });

export const bigPayload = (ctx: ScenarioContext): Promise<ScenarioResult> =>
  runQos0(ctx, {
    id: "big",
    groups: [{ pubTopics: ["bench/big"], subFilters: ["bench/big"], window: 16 }],
    payload: 65536,
    batchMsgs: 1,
    unit: "MB/s",
  });
