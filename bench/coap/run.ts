/**
 * CoAP benchmark: Switchboard vs libcoap's coap-server, side by side in one interleaved run.
 * Servers are pinned to core 0, this load generator to core 1 (re-executed under taskset).
 *
 *   npm run build && node dist/bench/coap/run.js      (BENCH_ROUNDS=3, BENCH_SECONDS=5)
 */
import { spawnSync } from "node:child_process";
import { median } from "../stats.js";
import { getRate, memoryPerObserver, notifyRate } from "./scenarios.js";
import { type CoapServerName, libcoapServer, startServer } from "./servers.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const OBSERVERS_FOR_MEMORY = Number(process.env.BENCH_MEMORY_OBSERVERS ?? 20000);
const SERVERS = (process.env.BENCH_COAP_SERVERS ?? "switchboard,libcoap").split(",") as CoapServerName[];

function hasTaskset(): boolean {
  return !spawnSync("taskset", ["-c", "0", "true"]).error;
}

async function main(): Promise<void> {
  const pin = hasTaskset();
  if (pin && process.env.BENCH_COAP_PINNED !== "1") {
    const r = spawnSync("taskset", ["-c", "1", process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, BENCH_COAP_PINNED: "1" },
    });
    process.exit(r.status ?? 1);
  }
  if (SERVERS.includes("libcoap") && spawnSync(libcoapServer(), ["-h"]).error) {
    throw new Error(
      "coap-server (Debian libcoap3-bin) is required; BENCH_COAP_SERVERS=switchboard runs without it",
    );
  }
  const results = new Map<string, number[]>();
  const add = (k: string, v: number) => {
    const list = results.get(k) ?? [];
    list.push(v);
    results.set(k, list);
  };
  let port = 15683;
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? SERVERS : [...SERVERS].reverse();
    for (const name of order) {
      // Memory on a server of its own: after the load scenarios a Node process's RSS follows its
      // garbage collector more than 20 000 observations, and the observations left behind would
      // slow libcoap's later scenarios (it walks its observers on every turn of its loop).
      const fresh = await startServer(name, port++, pin ? 0 : undefined);
      let bytesPerObserver: number;
      try {
        bytesPerObserver = await memoryPerObserver(fresh.port, fresh.pid, OBSERVERS_FOR_MEMORY);
      } finally {
        await fresh.stop();
      }
      const server = await startServer(name, port++, pin ? 0 : undefined);
      try {
        const g = await getRate(server.port, server.pid, SECONDS);
        add(`${name} get/s`, g.perSecond);
        add(`${name} get cpu µs`, g.cpuMicrosPerRequest);
        for (const n of [1, 16]) {
          const r = await notifyRate(server.port, server.pid, n, SECONDS);
          add(`${name} notify${n}/s`, r.perSecond);
          add(`${name} notify${n} lost`, r.lost);
          add(`${name} notify${n} expected`, r.expected);
          add(`${name} notify${n} cpu µs`, r.cpuMicrosPerNotification);
        }
        add(`${name} bytes/observer`, bytesPerObserver);
        console.error(`round ${round} ${name} done`);
      } finally {
        await server.stop();
      }
    }
  }
  const m = (k: string) => median(results.get(k) ?? [Number.NaN]);
  const rows: Array<[string, string, string, string]> = [];
  const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
  const row = (label: string, key: string, digits = 0, higherIsBetter = true) => {
    const s = m(`switchboard ${key}`);
    const l = m(`libcoap ${key}`);
    const ratio = higherIsBetter ? s / l : l / s;
    rows.push([label, fmt(s, digits), fmt(l, digits), `${fmt(ratio, 2)}x`]);
  };
  row("CON GET requests/s (32 in flight)", "get/s");
  row("server CPU µs per GET", "get cpu µs", 1, false);
  row("notifications/s, 1 CON observer", "notify1/s");
  row("notifications lost, 1 observer (of expected)", "notify1 lost", 0, false);
  row("notifications/s, 16 CON observers", "notify16/s");
  row("notifications lost, 16 observers (of expected)", "notify16 lost", 0, false);
  row("server CPU µs per notification (16 observers)", "notify16 cpu µs", 1, false);
  row("resident bytes per observer", "bytes/observer", 0, false);
  console.log(
    `CoAP benchmark: ${ROUNDS} interleaved rounds, ${SECONDS} s each, medians; ratio > 1 = Switchboard better`,
  );
  console.log("| measure | switchboard | libcoap coap-server | ratio |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log(
    `expected notifications (median): 1 observer ${fmt(m("switchboard notify1 expected"))} / ${fmt(m("libcoap notify1 expected"))}, 16 observers ${fmt(m("switchboard notify16 expected"))} / ${fmt(m("libcoap notify16 expected"))}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
