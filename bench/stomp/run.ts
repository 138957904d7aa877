/**
 * STOMP benchmark driver: Switchboard and RabbitMQ 3.10 (STOMP plugin) side by side in one
 * interleaved run (round by round, scenario by scenario, broker after broker), each broker pinned to
 * core 1 and the generator (gen.ts) to core 0. Prints each run, then medians and ratios.
 *
 *   npm run build && node dist/bench/stomp/run.js [--rounds 3] [--scenarios topic,queue,flood] [--brokers switchboard,rabbitmq] [--out FILE]
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { median } from "../stats.js";
import { RABBITMQ_SERVER, type StompBrokerName, startStompBroker } from "./brokers.js";

interface Result {
  scenario: string;
  rate: number;
  brokerCpuUsPerMsg: number;
  brokerCpuPct: number;
  genCpuPct: number;
  rssStartKiB: number;
  rssEndKiB: number;
  rssMaxKiB: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1]!;
}

const rounds = Number(arg("rounds", "3"));
const scenarios = arg("scenarios", "topic,queue,flood").split(",");
const brokers = arg("brokers", "switchboard,rabbitmq").split(",") as StompBrokerName[];
const out = arg("out", "");
const pinned = cpus().length >= 2 && hasTaskset();
const BROKER_CORE = pinned ? 1 : undefined;
const GEN_CORE = pinned ? 0 : undefined;

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function runGen(scenario: string, port: number, pid: number, headers: string): Promise<Result> {
  const measure = scenario === "flood" ? "10000" : "4000";
  const argv = [
    process.execPath,
    "dist/bench/stomp/gen.js",
    scenario,
    String(port),
    String(pid),
    Buffer.from(headers).toString("base64"),
    "1500",
    measure,
  ];
  const full = GEN_CORE === undefined ? argv : ["taskset", "-c", String(GEN_CORE), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`generator failed (${code}): ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!) as Result);
    });
  });
}

async function main(): Promise<void> {
  if (brokers.includes("rabbitmq") && !existsSync(RABBITMQ_SERVER)) {
    throw new Error(
      `${RABBITMQ_SERVER} not found: apt-get install rabbitmq-server, or --brokers switchboard`,
    );
  }
  console.log(
    `STOMP benchmark: ${rounds} rounds, ${pinned ? "brokers on core 1, generator on core 0" : "UNPINNED"}`,
  );
  const results = new Map<string, Result[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of scenarios) {
      for (const name of brokers) {
        const broker = await startStompBroker(name, BROKER_CORE);
        try {
          const r = await runGen(scenario, broker.port, broker.pid, broker.connectHeaders);
          const key = `${scenario}/${name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(
            `round ${round} ${scenario.padEnd(6)} ${name.padEnd(12)} ${Math.round(r.rate).toString().padStart(8)} msg/s  ` +
              `broker ${r.brokerCpuUsPerMsg.toFixed(1)} µs/msg (${r.brokerCpuPct.toFixed(0)}% CPU)  gen ${r.genCpuPct.toFixed(0)}%  ` +
              `RSS ${(r.rssStartKiB / 1024).toFixed(0)} -> max ${(r.rssMaxKiB / 1024).toFixed(0)} MiB`,
          );
        } finally {
          await broker.stop();
        }
      }
    }
  }
  const lines = [
    "| scenario | broker | msg/s (median) | min–max | broker µs/msg | broker RSS max (MiB) | ratio vs RabbitMQ |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const scenario of scenarios) {
    const rabbit = results.get(`${scenario}/rabbitmq`);
    const rabbitRate = rabbit ? median(rabbit.map((r) => r.rate)) : undefined;
    for (const name of brokers) {
      const rs = results.get(`${scenario}/${name}`) ?? [];
      const rates = rs.map((r) => r.rate);
      const rate = median(rates);
      const ratio = rabbitRate && name !== "rabbitmq" ? `${(rate / rabbitRate).toFixed(2)}x` : "";
      lines.push(
        `| ${scenario} | ${name} | ${Math.round(rate)} | ${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))} | ` +
          `${median(rs.map((r) => r.brokerCpuUsPerMsg)).toFixed(1)} | ${Math.round(Math.max(...rs.map((r) => r.rssMaxKiB)) / 1024)} | ${ratio} |`,
      );
    }
  }
  const report = lines.join("\n");
  console.log(`\n${report}`);
  if (out) writeFileSync(out, `${report}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
