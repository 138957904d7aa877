/**
 * AMQP 0-9-1 benchmark driver: Switchboard and RabbitMQ 3.10 side by side in one interleaved run.
 * Each broker is pinned to core 1 (RabbitMQ with one Erlang scheduler), the generator (gen.ts, one
 * process per run, hand-built frames) to core 0. Each round starts each broker in turn (the order
 * alternating by round) and runs every scenario on it; the report gives medians, ranges and ratios.
 *
 *   npm run build && node dist/bench/amqp/run.js [--rounds 3] [--scenarios a,b] [--out FILE]
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { max, median, min } from "../stats.js";
import { type AmqpBroker, type AmqpBrokerName, RABBITMQ_SERVER, startAmqpBroker } from "./brokers.js";
import type { ScenarioId as Scenario091Id } from "./gen.js";
import type { Scenario10Id } from "./gen10.js";

type ScenarioId = Scenario091Id | Scenario10Id;
const ALL: ScenarioId[] = [
  "no-ack",
  "manual-ack",
  "confirms",
  "fanout16",
  "latency",
  "idle",
  "amqp10-presettled",
  "amqp10-unsettled",
  "amqp10-fanout16",
  "amqp10-stall",
];
const TARGET: Record<ScenarioId, string> = {
  "amqp10-presettled": "≥ 2×",
  "amqp10-unsettled": "≥ 2×",
  "amqp10-fanout16": "≥ 2×",
  "amqp10-stall": "bounded",
  "no-ack": "≥ 2×",
  "manual-ack": "≥ 2×",
  confirms: "≥ 2×",
  fanout16: "≥ 2×",
  latency: "≤ 1×",
  idle: "≤ 10 KiB",
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(arg("--rounds") ?? 3);
const scenarios = (arg("--scenarios")?.split(",") as ScenarioId[] | undefined) ?? ALL;
const out = arg("--out");
const withRabbit = existsSync(RABBITMQ_SERVER);

interface Run {
  value: number;
  unit: string;
  brokerCpuPct: number;
  genCpuPct: number;
  extras: Record<string, unknown>;
}

function gen(s: ScenarioId, b: AmqpBroker): Run {
  const stdout = execFileSync(
    "taskset",
    [
      "-c",
      "0",
      process.execPath,
      `dist/bench/amqp/${s.startsWith("amqp10-") ? "gen10" : "gen"}.js`,
      s,
      String(b.port),
      String(b.pid),
    ],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop()!) as Run;
}

// One broker runs at a time (an idle RabbitMQ still takes time on the shared core, and latency-bound
// runs feel it): each round starts each broker in turn, runs every scenario on it, and stops it.
const names: AmqpBrokerName[] = withRabbit ? ["switchboard", "rabbitmq"] : ["switchboard"];
if (!withRabbit) console.log("rabbitmq-server 3.10 not found: Switchboard alone");
const results = new Map<string, Run[]>();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  for (const name of order) {
    const b = await startAmqpBroker(name, name === "switchboard" ? 25_800 : 25_801, 1);
    try {
      for (const s of scenarios) {
        const run = gen(s, b);
        const key = `${s}/${b.name}`;
        results.set(key, [...(results.get(key) ?? []), run]);
        console.log(
          `round ${r + 1} ${s.padEnd(10)} ${b.name.padEnd(11)} ${run.value.toFixed(1).padStart(10)} ${run.unit}  broker CPU ${run.brokerCpuPct.toFixed(0)}%  gen CPU ${run.genCpuPct.toFixed(0)}%  ${JSON.stringify(run.extras)}`,
        );
      }
    } finally {
      await b.stop();
    }
  }
}

const lines = [
  `AMQP 0-9-1 and 1.0 (RabbitMQ: rabbitmq_amqp1_0), ${rounds} interleaved rounds, 64-byte bodies; brokers on core 1, generator on core 0.`,
  "",
  "| scenario | unit | Switchboard median (min–max) | RabbitMQ median (min–max) | Switchboard / RabbitMQ | target |",
  "| --- | --- | --- | --- | --- | --- |",
];
const fmt = (xs: number[]): string =>
  `${median(xs).toFixed(1)} (${min(xs).toFixed(1)}–${max(xs).toFixed(1)})`;
for (const s of scenarios) {
  const sb = (results.get(`${s}/switchboard`) ?? []).map((r) => r.value);
  const rb = (results.get(`${s}/rabbitmq`) ?? []).map((r) => r.value);
  const unit = results.get(`${s}/switchboard`)?.[0]?.unit ?? "";
  const ratio = rb.length > 0 ? (median(sb) / median(rb)).toFixed(2) : "—";
  lines.push(`| ${s} | ${unit} | ${fmt(sb)} | ${rb.length > 0 ? fmt(rb) : "—"} | ${ratio} | ${TARGET[s]} |`);
}
const report = lines.join("\n");
console.log(`\n${report}`);
if (out) writeFileSync(out, `${report}\n`);
