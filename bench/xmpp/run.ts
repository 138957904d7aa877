/**
 * XMPP benchmark: Switchboard and Prosody side by side in interleaved rounds, each server pinned to
 * core 0 and this load generator to core 1, plain TCP, hand-built stanzas after authentication.
 *   - messages/s: one client sends chat messages to another (pipelined, with socket backpressure);
 *   - PubSub notifications/s: one publisher, 16 subscribers of one node (publishes in a window);
 *   - memory per logged-in session: RSS growth of the server over N authenticated, bound sessions.
 * Usage: npm run bench:xmpp  (BENCH_ROUNDS, BENCH_MESSAGES, BENCH_PUBLISHES, BENCH_SESSIONS)
 */
import { spawnSync } from "node:child_process";
import { rssKiB } from "../proc.js";
import { BenchClient } from "./client.js";
import { DOMAIN, PASSWORD, startProsody, startSwitchboard, type XmppServer } from "./servers.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const PUBLISHES = Number(process.env.BENCH_PUBLISHES ?? 5_000);
// 500: Prosody stops answering new connections after ~1000 (its network backend's descriptor limit)
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
const SUBSCRIBERS = 16;
const WINDOW = 200;
const PS = "http://jabber.org/protocol/pubsub";

interface Result {
  msgsPerSec: number;
  notificationsPerSec: number;
  kibPerSession: number;
}

async function waitCount(get: () => number, target: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (get() < target) {
    if (Date.now() > end) throw new Error(`only ${get()} of ${target} arrived`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function messages(port: number): Promise<number> {
  const a = await BenchClient.login(port, DOMAIN, "sender", PASSWORD, "a");
  const b = await BenchClient.login(port, DOMAIN, "receiver", PASSWORD, "b");
  b.countMarker("</message>");
  const stanza = `<message to='receiver@${DOMAIN}/b' type='chat'><body>benchmark message 0123456789</body></message>`;
  const batch = stanza.repeat(100);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES / 100; i++) await a.write(batch);
  await waitCount(() => b.count, MESSAGES, 120_000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  a.close();
  b.close();
  return MESSAGES / secs;
}

async function pubsub(port: number, round: number): Promise<number> {
  const node = `bench/ps${round}`;
  const pub = await BenchClient.login(port, DOMAIN, "pub", PASSWORD, "p");
  const publish = (i: number) =>
    `<iq type='set' to='pubsub.${DOMAIN}' id='p${i}'><pubsub xmlns='${PS}'><publish node='${node}'><item><payload xmlns='urn:switchboard:payload:0'>reading ${i}</payload></item></publish></pubsub></iq>`;
  // the first publish creates the node (auto-create on both servers)
  pub.countMarker("</iq>");
  await pub.write(publish(0));
  await waitCount(() => pub.count, 1, 10_000);
  const subs: BenchClient[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const s = await BenchClient.login(port, DOMAIN, `sub${i}`, PASSWORD, "s");
    s.countMarker("</iq>");
    await s.write(
      `<iq type='set' to='pubsub.${DOMAIN}' id='s'><pubsub xmlns='${PS}'><subscribe node='${node}' jid='sub${i}@${DOMAIN}'/></pubsub></iq>`,
    );
    await waitCount(() => s.count, 1, 10_000);
    s.countMarker("</message>");
    subs.push(s);
  }
  await new Promise((r) => setTimeout(r, 200)); // last-item notifications on subscribe
  for (const s of subs) s.countMarker("</message>");
  pub.countMarker("</iq>");
  const total = () => subs.reduce((n, s) => n + s.count, 0);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < PUBLISHES) {
    // a window of outstanding publishes: the publisher never runs far ahead of the server
    while (sent < PUBLISHES && sent - pub.count < WINDOW) await pub.write(publish(++sent));
    await new Promise((r) => setImmediate(r));
  }
  await waitCount(total, PUBLISHES * SUBSCRIBERS, 120_000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  pub.close();
  for (const s of subs) s.close();
  return (PUBLISHES * SUBSCRIBERS) / secs;
}

async function memory(server: XmppServer): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKiB(server.pid);
  const clients: BenchClient[] = [];
  for (let i = 0; i < SESSIONS; i++)
    clients.push(await BenchClient.login(server.port, DOMAIN, "load", PASSWORD, `r${i}`));
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKiB(server.pid);
  for (const c of clients) c.close();
  await new Promise((r) => setTimeout(r, 2000)); // let the server finish the disconnections
  return (after - before) / SESSIONS;
}

async function runOne(name: "switchboard" | "prosody", port: number, round: number): Promise<Result> {
  const server = name === "switchboard" ? await startSwitchboard(port, 0) : await startProsody(port, 0);
  try {
    // memory first, on a fresh process: later, the heap left over by the throughput phases would
    // absorb new sessions and understate their cost
    const kibPerSession = await memory(server);
    const msgsPerSec = await messages(port);
    const notificationsPerSec = await pubsub(port, round);
    return { msgsPerSec, notificationsPerSec, kibPerSession };
  } finally {
    await server.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const results: Record<string, Result[]> = { switchboard: [], prosody: [] };
  let port = 25_222;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const name of ["switchboard", "prosody"] as const) {
      const r = await runOne(name, port++, round);
      results[name]!.push(r);
      console.log(
        `round ${round} ${name.padEnd(11)} messages/s ${r.msgsPerSec.toFixed(0).padStart(8)}  notifications/s ${r.notificationsPerSec.toFixed(0).padStart(8)}  KiB/session ${r.kibPerSession.toFixed(1).padStart(6)}`,
      );
    }
  }
  const m = (name: string, k: keyof Result) => median(results[name]!.map((r) => r[k]));
  console.log("\nmedians");
  for (const k of ["msgsPerSec", "notificationsPerSec", "kibPerSession"] as const) {
    const s = m("switchboard", k);
    const p = m("prosody", k);
    console.log(
      `${k.padEnd(20)} switchboard ${s.toFixed(1).padStart(9)}  prosody ${p.toFixed(1).padStart(9)}  ratio ${(s / p).toFixed(2)}x`,
    );
  }
}

// The load generator runs on core 1, the servers on core 0.
if (process.env.BENCH_XMPP_PINNED !== "1" && spawnSync("taskset", ["--version"]).status === 0) {
  const r = spawnSync("taskset", ["-c", "1", process.execPath, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, BENCH_XMPP_PINNED: "1" },
  });
  process.exit(r.status ?? 1);
} else {
  await main();
}
