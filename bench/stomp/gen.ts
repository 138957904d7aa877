/**
 * STOMP load generator: one scenario against one broker, JSON result on stdout. Hand-built frames
 * and plain sockets (a client library would be the bottleneck); 64-byte bodies.
 *
 *   node dist/bench/stomp/gen.js <scenario> <port> <broker pid> <connect headers, base64> [warmupMs] [measureMs]
 *
 * - topic: 4 publishers -> /topic/bench.t -> 1 subscriber (ack:auto); closed loop, at most WINDOW
 *   messages published and not yet delivered.
 * - queue: 4 publishers -> /queue/bench-q -> 1 subscriber with ack:client-individual and
 *   prefetch-count 1000 that ACKs every message; closed loop.
 * - flood: 1 publisher that ignores flow control (writes as fast as TCP takes it, no window) ->
 *   /queue/bench-flood -> 1 client-individual subscriber; reports the broker's memory over time.
 */
import net from "node:net";
import { cpuMicros, rssKiB } from "../proc.js";
import { sleep } from "../stats.js";

type Scenario = "topic" | "queue" | "flood";

const BODY = "x".repeat(64);
/** Messages published and not yet delivered, all publishers together (BENCH_STOMP_WINDOW overrides). */
const WINDOW = Number(process.env.BENCH_STOMP_WINDOW ?? 4000);
const BATCH = 32;
const NUL = 0;
const ACK_TAG = Buffer.from("\nack:");

const [scenarioArg, portArg, pidArg, headersArg, warmArg, measureArg] = process.argv.slice(2);
const scenario = scenarioArg as Scenario;
const port = Number(portArg);
const brokerPid = Number(pidArg);
const extraHeaders = Buffer.from(headersArg ?? "", "base64").toString();
const warmupMs = Number(warmArg ?? 1000);
const measureMs = Number(measureArg ?? 4000);

function open(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true }, () => {
      s.write(`CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n${extraHeaders}\n\0`);
    });
    s.once("error", reject);
    let got = "";
    const onData = (d: Buffer): void => {
      got += d.toString("latin1");
      if (!got.includes("\0")) return;
      s.off("data", onData);
      if (!got.startsWith("CONNECTED")) reject(new Error(`not connected: ${got}`));
      else resolve(s);
    };
    s.on("data", onData);
  });
}

function sendBatch(destination: string): Buffer {
  const one = `SEND\ndestination:${destination}\ncontent-length:64\n\n${BODY}\0`;
  return Buffer.from(one.repeat(BATCH));
}

async function subscribe(s: net.Socket, headers: string): Promise<void> {
  s.write(`SUBSCRIBE\n${headers}receipt:sub\n\n\0`);
  await new Promise<void>((resolve) => {
    let got = "";
    const onData = (d: Buffer): void => {
      got += d.toString("latin1");
      if (!got.includes("RECEIPT")) return;
      s.off("data", onData);
      resolve();
    };
    s.on("data", onData);
  });
}

async function main(): Promise<void> {
  const destination =
    scenario === "topic" ? "/topic/bench.t" : scenario === "queue" ? "/queue/bench-q" : "/queue/bench-flood";
  const sub = await open();
  const ackHeaders = scenario === "topic" ? "ack:auto\n" : "ack:client-individual\nprefetch-count:1000\n";
  await subscribe(sub, `id:s\ndestination:${destination}\n${ackHeaders}`);
  const pubs = await Promise.all(Array.from({ length: scenario === "flood" ? 1 : 4 }, () => open()));
  const batch = sendBatch(destination);

  let received = 0;
  let sent = 0;
  let rr = 0;
  const closedLoop = scenario !== "flood";
  const pump = (): void => {
    if (!closedLoop) return;
    while (sent - received < WINDOW) {
      pubs[rr++ % pubs.length]!.write(batch);
      sent += BATCH;
    }
  };

  let pending: Buffer | undefined;
  const needsAck = scenario !== "topic";
  sub.on("data", (chunk: Buffer) => {
    if (!needsAck) {
      for (let i = chunk.indexOf(NUL); i !== -1; i = chunk.indexOf(NUL, i + 1)) received++;
      pump();
      return;
    }
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let acks = "";
    let start = 0;
    for (;;) {
      const nul = data.indexOf(NUL, start);
      if (nul === -1) {
        if (start < data.length) pending = Buffer.from(data.subarray(start));
        break;
      }
      const a = data.indexOf(ACK_TAG, start);
      if (a !== -1 && a < nul) {
        const end = data.indexOf(10, a + ACK_TAG.length);
        acks += `ACK\nid:${data.toString("latin1", a + ACK_TAG.length, end)}\n\n\0`;
      }
      received++;
      start = nul + 1;
    }
    if (acks) sub.write(acks);
    pump();
  });

  if (!closedLoop) {
    // The flooding publisher: as fast as the socket takes it, waiting only for TCP's 'drain'.
    const p = pubs[0]!;
    const flood = (): void => {
      while (p.write(batch)) sent += BATCH;
      sent += BATCH;
    };
    p.on("drain", flood);
    flood();
  }
  pump();

  await sleep(warmupMs);
  const c0 = cpuMicros(brokerPid);
  const g0 = process.cpuUsage();
  const r0 = received;
  const t0 = performance.now();
  const rssStart = rssKiB(brokerPid);
  let rssMax = rssStart;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, rssKiB(brokerPid));
  }, 200);
  await sleep(measureMs);
  clearInterval(sampler);
  const t1 = performance.now();
  const r1 = received;
  const c1 = cpuMicros(brokerPid);
  const g = process.cpuUsage(g0);
  const rssEnd = rssKiB(brokerPid);
  const wall = (t1 - t0) / 1000;
  const count = r1 - r0;
  const result = {
    scenario,
    rate: count / wall,
    brokerCpuUsPerMsg: count > 0 ? (c1 - c0) / count : 0,
    brokerCpuPct: ((c1 - c0) / 1e6 / wall) * 100,
    genCpuPct: ((g.user + g.system) / 1e6 / wall) * 100,
    rssStartKiB: rssStart,
    rssEndKiB: rssEnd,
    rssMaxKiB: Math.max(rssMax, rssEnd),
    sent,
    received,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const s of [sub, ...pubs]) s.destroy();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${String(err?.stack ?? err)}\n`);
  process.exit(1);
});
