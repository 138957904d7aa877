/** Turns per-run results into the per-scenario detail and the summary table (Markdown). */

import type { ScenarioResult } from "./scenario.js";
import { max, median, min } from "./stats.js";

/** results[scenario][broker] = one result per round. */
export type Results = Record<string, Record<string, ScenarioResult[]>>;

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const cpuPerMsg = (r: ScenarioResult): number => (r.messages > 0 ? r.brokerCpuUs / r.messages : Number.NaN);
const med = (rs: ScenarioResult[], f: (r: ScenarioResult) => number): number => median(rs.map(f));

export function ratio(rs: Record<string, ScenarioResult[]>, a: string, b: string): number {
  const ra = rs[a];
  const rb = rs[b];
  if (!ra?.length || !rb?.length) return Number.NaN;
  return med(ra, (r) => r.value) / med(rb, (r) => r.value);
}

/** One table per scenario: median, spread, CPU, losses, and the extras. */
export function detail(id: string, label: string, rs: Record<string, ScenarioResult[]>): string {
  const lines = [
    `### ${id}: ${label}`,
    "",
    "| broker | median | min–max | broker CPU µs/msg | broker CPU % | generator CPU % | lost | dup | extras (medians) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [broker, runs] of Object.entries(rs)) {
    if (runs.length === 0) continue;
    const values = runs.map((r) => r.value);
    const unit = runs[0]?.unit ?? "";
    const extraKeys = Object.keys(runs[0]?.extra ?? {});
    const extras = extraKeys.map((k) => `${k} ${fmt(med(runs, (r) => r.extra[k] ?? Number.NaN))}`).join(", ");
    lines.push(
      `| ${broker} | ${fmt(median(values))} ${unit} | ${fmt(min(values))}–${fmt(max(values))} | ${fmt(
        med(runs, cpuPerMsg),
      )} | ${fmt(med(runs, (r) => (r.brokerCpuUs / 1e6 / r.seconds) * 100))} | ${fmt(
        med(runs, (r) => r.genCpuPct),
      )} | ${runs.reduce((a, r) => a + r.lost, 0)} | ${runs.reduce((a, r) => a + r.dup, 0)} | ${extras} |`,
    );
  }
  const sm = ratio(rs, "switchboard", "mosquitto");
  const sa = ratio(rs, "switchboard", "aedes");
  lines.push("", `Switchboard/Mosquitto ${fmt(sm)}×, Switchboard/Aedes ${fmt(sa)}× (medians)`, "");
  return lines.join("\n");
}

/** The headline table: one row per scenario, one column per broker, then the ratios. */
export function summary(
  results: Results,
  labels: Record<string, string>,
  brokers: readonly string[],
): string {
  const cols = [...brokers];
  const lines = [
    `| scenario | ${cols.join(" | ")} | SB/Mosquitto | SB/Aedes | SB CPU µs/msg | Mosq CPU µs/msg | Aedes CPU µs/msg |`,
    `|---|${cols.map(() => "---").join("|")}|---|---|---|---|---|`,
  ];
  for (const [id, rs] of Object.entries(results)) {
    const cells = cols.map((b) => {
      const runs = rs[b];
      if (!runs?.length) return "–";
      const v = runs.map((r) => r.value);
      return `${fmt(median(v))} (${fmt(min(v))}–${fmt(max(v))})`;
    });
    const unit = Object.values(rs).find((r) => r.length)?.[0]?.unit ?? "";
    const cpu = (b: string): string => (rs[b]?.length ? fmt(med(rs[b] as ScenarioResult[], cpuPerMsg)) : "–");
    lines.push(
      `| ${labels[id] ?? id} [${unit}] | ${cells.join(" | ")} | ${fmt(ratio(rs, "switchboard", "mosquitto"))} | ${fmt(
        ratio(rs, "switchboard", "aedes"),
      )} | ${cpu("switchboard")} | ${cpu("mosquitto")} | ${cpu("aedes")} |`,
    );
  }
  return lines.join("\n");
}
