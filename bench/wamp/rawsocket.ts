/**
 * WAMP over RawSocket (TCP, JSON), Switchboard alone: fox-wamp is benchmarked over WebSocket only
 * (run.ts). PubSub 1 → N with hand-built frames, shaped like gen.ts's PubSub scenarios: the
 * publisher keeps at most 500 events outstanding (published, not yet received by subscriber 0) and
 * refills every event-loop turn. The router is pinned to core 1 and this generator to core 0 when
 * taskset is there. Prints deliveries per second and the router's CPU per delivery.
 *
 *   npm run build && node dist/bench/wamp/rawsocket.js [--subscribers N] [--seconds S]
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuMicros } from "../proc.js";
import { sleep } from "../stats.js";

const argv = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const SUBSCRIBERS = flag("--subscribers", 1);
const SECONDS = flag("--seconds", 4);
const TOPIC = "bench.topic";
const CREDIT = 500;

interface Peer {
  socket: Socket;
  /** Called with each WAMP message (the frame's payload, JSON text as bytes). */
  onMessage: (m: Buffer) => void;
  send(text: string): void;
}

/** A RawSocket session: handshake for JSON with the largest length, HELLO, wait for WELCOME. */
function session(port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let shaken = false;
    const peer: Peer = {
      socket,
      onMessage: (m) => {
        if (m[1] === 0x32 /* [2, WELCOME */) resolve(peer);
      },
      send(text) {
        const body = Buffer.from(text);
        const frame = Buffer.allocUnsafe(4 + body.length);
        frame.writeUInt32BE(body.length, 0); // frame type 0 (message) in the top octet
        body.copy(frame, 4);
        socket.write(frame);
      },
    };
    socket.once("error", reject);
    socket.on("data", (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (!shaken) {
        if (buf.length < 4) return;
        shaken = true;
        buf = buf.subarray(4);
        peer.send(JSON.stringify([1, "realm1", { roles: { publisher: {}, subscriber: {} } }]));
      }
      let at = 0;
      while (buf.length - at >= 4) {
        const n = buf.readUInt32BE(at) & 0xffffff;
        if (buf.length - at - 4 < n) break;
        peer.onMessage(buf.subarray(at + 4, at + 4 + n));
        at += 4 + n;
      }
      buf = buf.subarray(at);
    });
    socket.once("connect", () => socket.write(Buffer.from([0x7f, 0xf1, 0, 0])));
  });
}

async function startRouter(port: number, dir: string): Promise<ChildProcess> {
  const pin = !spawnSync("taskset", ["-c", "0", "true"]).error;
  const cmd = [
    process.execPath,
    "--max-semi-space-size=4", // as `npm start` and the bin run it
    "dist/src/cli/main.js",
    "start",
    "--store",
    "memory",
    "--wamp-port",
    String(port),
    ...["--mqtt-port", "--http-port", "--amqp-port", "--stomp-port", "--xmpp-port", "--coap-port"].flatMap(
      (f) => [f, "off"],
    ),
    "--log-level",
    "warn",
    "--data-dir",
    dir,
  ];
  const full = pin ? ["taskset", "-c", "1", ...cmd] : cmd;
  if (pin) spawnSync("taskset", ["-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
  const child = spawn(full[0]!, full.slice(1), { stdio: "ignore" });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const probe = await session(port);
      probe.socket.destroy();
      return child;
    } catch {
      if (Date.now() > deadline) throw new Error("the router did not accept RawSocket connections");
      await sleep(100);
    }
  }
}

async function main(): Promise<void> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = mkdtempSync(join(tmpdir(), "bench-wamp-rawsocket-"));
  const router = await startRouter(port, dir);
  try {
    let delivered = 0;
    let atFirst = 0;
    const peers: Peer[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const s = await session(port);
      const first = i === 0;
      await new Promise<void>((resolve) => {
        s.onMessage = (m) => {
          if (m[1] === 0x33 && m[2] === 0x33) resolve(); // [33, SUBSCRIBED
        };
        s.send(JSON.stringify([32, 1, {}, TOPIC]));
      });
      s.onMessage = (m) => {
        if (m[1] !== 0x33 || m[2] !== 0x36) return; // [36, EVENT, read from the bytes
        delivered++;
        if (first) atFirst++;
      };
      peers.push(s);
    }
    const pub = await session(port);
    let published = 0;
    let request = 0;
    const tail = `"${TOPIC}",[1,"some text",{"k":2.5}]]`;
    let running = true;
    const pump = (): void => {
      if (!running) return;
      while (published - atFirst < CREDIT) {
        pub.send(`[16,${++request},{},${tail}`);
        published++;
      }
      setImmediate(pump);
    };
    pump();
    await sleep(1000); // warm-up
    const d0 = delivered;
    const c0 = cpuMicros(router.pid!);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const d1 = delivered;
    const c1 = cpuMicros(router.pid!);
    const seconds = (performance.now() - t0) / 1000;
    running = false;
    console.log(
      `WAMP RawSocket/JSON PubSub 1 -> ${SUBSCRIBERS}: ${Math.round((d1 - d0) / seconds)} deliveries/s, ` +
        `router ${((c1 - c0) / (d1 - d0)).toFixed(2)} µs of CPU per delivery`,
    );
    for (const p of [pub, ...peers]) p.socket.destroy();
  } finally {
    router.kill("SIGTERM");
    await new Promise((r) => router.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
