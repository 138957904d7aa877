/**
 * The WAMP load generator: one scenario against one router, one JSON line on stdout. Messages are
 * hand-built WAMP JSON strings over `ws` (no WAMP client library): a callee answers an INVOCATION by
 * cutting the request id out of the text, a caller counts RESULTs by their first characters, so the
 * generator stays cheaper than the routers it measures.
 *
 *   node dist/bench/wamp/gen.js SCENARIO URL ROUTER_PID [--warmup MS] [--measure MS]
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import { cpuMicros, rssKiB } from "../proc.js";
import { quantile, sleep } from "../stats.js";

const HELLO = JSON.stringify([
  1,
  "realm1",
  { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } },
]);

interface Peer {
  ws: WebSocket;
  onText: (text: string) => void;
  /** When set, gets messages as bytes instead of onText (no string made per message). */
  onBytes: ((bytes: Buffer) => void) | undefined;
  send(text: string): void;
}

type CorkableSocket = Socket & { genCorked?: boolean };

function uncork(s: CorkableSocket): void {
  s.genCorked = false;
  s.uncork();
}

/**
 * Sends through `ws`, corking its socket until the next tick: what one read event makes the
 * generator send (e.g. the YIELDs for a batch of INVOCATIONs) leaves in one write, as a router's does.
 */
function sender(ws: WebSocket): (text: string) => void {
  const socket = (ws as unknown as { _socket: CorkableSocket })._socket;
  return (text) => {
    if (!socket.genCorked) {
      socket.genCorked = true;
      socket.cork();
      process.nextTick(uncork, socket);
    }
    ws.send(text);
  };
}

/** Opens a WAMP session (HELLO/WELCOME) and routes every later message to `peer.onText`. */
async function session(url: string): Promise<Peer> {
  // A zero masking key: ws then skips the XOR of every outgoing frame. RFC 6455 wants unpredictable
  // keys to protect proxies from browsers' scripts; a load generator on loopback needs no such key,
  // and both routers unmask the same way.
  const ws = new WebSocket(url, ["wamp.2.json"], {
    perMessageDeflate: false,
    generateMask: (mask: Buffer) => mask.fill(0),
  });
  const peer: Peer = { ws, onText: () => {}, onBytes: undefined, send: (t) => ws.send(t) };
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => ws.send(HELLO));
    ws.once("message", (data: Buffer) => {
      const t = data.toString();
      if (!t.startsWith("[2,")) reject(new Error(`no WELCOME: ${t}`));
      else resolve();
      peer.send = sender(ws);
      ws.on("message", (d: Buffer) => {
        if (peer.onBytes !== undefined) peer.onBytes(d);
        else peer.onText(d.toString());
      });
    });
  });
  return peer;
}

/** Sends one request and waits for the reply whose text starts with `prefix`. */
function request(p: Peer, msg: string, prefix: string): Promise<string> {
  return new Promise((resolve) => {
    const prev = p.onText;
    p.onText = (t) => {
      if (t.startsWith(prefix)) {
        p.onText = prev;
        resolve(t);
      } else prev(t);
    };
    p.ws.send(msg);
  });
}

/** A callee that echoes [1] for every INVOCATION of `procedure`. */
async function echoCallee(url: string, procedure: string, invoke: string): Promise<Peer> {
  const callee = await session(url);
  // simultaneousTaskLimit: fox-wamp's own option (its default lets one call at a time reach a
  // callee); invoke: WAMP's shared-registration policy. Each router ignores the other's option.
  await request(callee, JSON.stringify([64, 1, { invoke, simultaneousTaskLimit: -1 }, procedure]), "[65,");
  callee.onText = (t) => {
    if (!t.startsWith("[68,")) return;
    callee.send(`[70,${t.slice(4, t.indexOf(",", 4))},{},[1]]`);
  };
  return callee;
}

interface Options {
  url: string;
  pid: number;
  warmupMs: number;
  measureMs: number;
}

interface Measured {
  rate: number;
  cpuPct: number;
  [k: string]: number;
}

/** Counts what `count()` reports over the measure window after the warm-up, with router CPU. */
async function window(o: Options, count: () => number): Promise<Measured> {
  await sleep(o.warmupMs);
  const c0 = count();
  const cpu0 = cpuMicros(o.pid);
  const gen0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(o.measureMs);
  const c1 = count();
  const cpu1 = cpuMicros(o.pid);
  const gen = process.cpuUsage(gen0);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    rate: (c1 - c0) / secs,
    cpuPct: ((cpu1 - cpu0) / 1e6 / secs) * 100,
    genCpuPct: ((gen.user + gen.system) / 1e6 / secs) * 100,
  };
}

/** `callers` callers each keep `inflight` calls outstanding to `procedure` (one or two callees). */
async function rpcThroughput(
  o: Options,
  callers: number,
  inflight: number,
  callees: number,
): Promise<Measured> {
  const procedure = "bench.echo";
  const cs = [];
  for (let i = 0; i < callees; i++)
    cs.push(await echoCallee(o.url, procedure, callees > 1 ? "roundrobin" : "single"));
  let results = 0;
  const peers: Peer[] = [];
  for (let i = 0; i < callers; i++) {
    const p = await session(o.url);
    let req = 0;
    const call = () => p.send(`[48,${++req},{},"${procedure}",[1]]`);
    p.onText = (t) => {
      if (!t.startsWith("[50,")) return;
      results++;
      call();
    };
    peers.push(p);
    for (let k = 0; k < inflight; k++) call();
  }
  const m = await window(o, () => results);
  for (const p of [...peers, ...cs]) p.ws.terminate();
  return m;
}

/**
 * One publisher, `subs` subscribers: the publisher keeps at most `credit` events outstanding
 * (published, not yet received by subscriber 0), so a router runs flat out without queueing without
 * bound. The rate is deliveries per second over all subscribers.
 */
async function pubsub(o: Options, subs: number): Promise<Measured> {
  const topic = "bench.topic";
  let delivered = 0;
  let atFirst = 0;
  const peers: Peer[] = [];
  for (let i = 0; i < subs; i++) {
    const s = await session(o.url);
    await request(s, JSON.stringify([32, 1, {}, topic]), "[33,");
    const first = i === 0;
    // "[36," (EVENT) read from the bytes: no string per event.
    s.onBytes = (d) => {
      if (d[0] !== 0x5b || d[1] !== 0x33 || d[2] !== 0x36 || d[3] !== 0x2c) return;
      delivered++;
      if (first) atFirst++;
    };
    peers.push(s);
  }
  const pub = await session(o.url);
  const credit = 500;
  let published = 0;
  let req = 0;
  const payload = `"${topic}",[1,"some text",{"k":2.5}]]`;
  // The pump polls for credit every event-loop turn: a busy loop that keeps the router fed as soon
  // as any credit frees (waking it from the subscriber instead let the router idle, 80% against 95%),
  // so the generator's CPU figure is near 100% in these two scenarios whatever its real load.
  const pump = (): void => {
    if (pub.ws.readyState !== WebSocket.OPEN) return;
    while (published - atFirst < credit) {
      pub.send(`[16,${++req},{},${payload}`);
      published++;
    }
    setImmediate(pump);
  };
  pump();
  const m = await window(o, () => delivered);
  pub.ws.terminate();
  for (const p of peers) p.ws.terminate();
  return m;
}

/** Sequential calls: each CALL waits for its RESULT. Round-trip percentiles in ms. */
async function rtt(o: Options): Promise<Measured> {
  const callee = await echoCallee(o.url, "bench.rtt", "single");
  const caller = await session(o.url);
  const times: number[] = [];
  const end = Date.now() + o.warmupMs + o.measureMs;
  let req = 0;
  const warmUntil = Date.now() + o.warmupMs;
  const cpu0 = { t: 0n, cpu: 0 };
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    await request(caller, `[48,${++req},{},"bench.rtt",[1]]`, "[50,");
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (Date.now() >= warmUntil) {
      if (times.length === 0) {
        cpu0.t = process.hrtime.bigint();
        cpu0.cpu = cpuMicros(o.pid);
      }
      times.push(dt);
    }
  }
  const secs = Number(process.hrtime.bigint() - cpu0.t) / 1e9;
  const cpuPct = ((cpuMicros(o.pid) - cpu0.cpu) / 1e6 / secs) * 100;
  caller.ws.terminate();
  callee.ws.terminate();
  const sorted = Float64Array.from(times).sort();
  return { rate: times.length / secs, cpuPct, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Router memory per idle session: RSS before and after opening `n` sessions that then stay idle. */
async function idleMemory(o: Options, n: number): Promise<Measured> {
  await sleep(500);
  const before = rssKiB(o.pid);
  const peers: Peer[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 50); k++) batch.push(session(o.url));
    peers.push(...(await Promise.all(batch)));
  }
  await sleep(1500);
  const after = rssKiB(o.pid);
  for (const p of peers) p.ws.terminate();
  return { rate: (after - before) / n, cpuPct: 0, sessions: n };
}

export const SCENARIOS: Record<string, (o: Options) => Promise<Measured>> = {
  "rpc-inflight": (o) => rpcThroughput(o, 1, 100, 1),
  "rpc-shared": (o) => rpcThroughput(o, 4, 25, 2),
  "pubsub-1-1": (o) => pubsub(o, 1),
  "pubsub-1-16": (o) => pubsub(o, 16),
  "rpc-rtt": rtt,
  "idle-memory": (o) => idleMemory(o, 2000),
};

async function main(): Promise<void> {
  const [scenario, url, pid, ...rest] = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : def;
  };
  const run = SCENARIOS[scenario ?? ""];
  if (!run || !url || !pid) {
    console.error(
      `usage: gen.js ${Object.keys(SCENARIOS).join("|")} URL ROUTER_PID [--warmup MS] [--measure MS]`,
    );
    process.exit(2);
  }
  const r = await run({
    url,
    pid: Number(pid),
    warmupMs: opt("--warmup", 1000),
    measureMs: opt("--measure", 3000),
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith("wamp/gen.js")) void main();
