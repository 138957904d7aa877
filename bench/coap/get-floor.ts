/**
 * Confirmable GETs (the getRate scenario of run.ts) against Switchboard, libcoap's coap-server and
 * the do-nothing Node.js responder (floor-responder.ts), in interleaved rounds: how far Switchboard's
 * CoAP code is above what Node.js itself costs per datagram, and where that floor is against libcoap.
 * Servers pinned to core 0, this generator to core 1 (re-executed under taskset), as in run.ts.
 *
 *   npm run build && node dist/bench/coap/get-floor.js      (BENCH_ROUNDS=4, BENCH_SECONDS=4)
 */
import { spawnSync } from "node:child_process";
import { median } from "../stats.js";
import { getRate } from "./scenarios.js";
import { type CoapServerName, startServer } from "./servers.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SERVERS: CoapServerName[] = ["switchboard", "libcoap", "node-floor"];

async function main(): Promise<void> {
  const pin = !spawnSync("taskset", ["-c", "0", "true"]).error;
  if (pin && process.env.BENCH_COAP_PINNED !== "1") {
    const r = spawnSync("taskset", ["-c", "1", process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, BENCH_COAP_PINNED: "1" },
    });
    process.exit(r.status ?? 1);
  }
  const rates = new Map<CoapServerName, number[]>(SERVERS.map((n) => [n, []]));
  const cpu = new Map<CoapServerName, number[]>(SERVERS.map((n) => [n, []]));
  console.log(`CoAP CON GETs, 32 in flight, ${ROUNDS} interleaved rounds of ${SECONDS} s`);
  console.log(`| round | ${SERVERS.join(" | ")} |`);
  console.log(`| --- | ${SERVERS.map(() => "---").join(" | ")} |`);
  let port = 16683;
  for (let round = 1; round <= ROUNDS; round++) {
    const cells: string[] = [];
    for (const name of SERVERS) {
      const server = await startServer(name, port++, pin ? 0 : undefined);
      try {
        const g = await getRate(server.port, server.pid, SECONDS);
        rates.get(name)!.push(g.perSecond);
        cpu.get(name)!.push(g.cpuMicrosPerRequest);
        cells.push(`${Math.round(g.perSecond)}/s (${g.cpuMicrosPerRequest.toFixed(2)} µs)`);
      } finally {
        await server.stop();
      }
    }
    console.log(`| ${round} | ${cells.join(" | ")} |`);
  }
  const m = (name: CoapServerName) => median(rates.get(name)!);
  console.log(
    `medians: ${SERVERS.map((n) => `${n} ${Math.round(m(n))}/s, ${median(cpu.get(n)!).toFixed(2)} µs`).join("; ")}`,
  );
  console.log(
    `switchboard / libcoap ${(m("switchboard") / m("libcoap")).toFixed(2)}x; node-floor / libcoap ${(m("node-floor") / m("libcoap")).toFixed(2)}x`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
