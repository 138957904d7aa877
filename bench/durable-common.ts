/**
 * Shared by bench/durable-qos1.ts and bench/startup.ts: starting and stopping broker processes
 * (Switchboard, Mosquitto), pinning to cores with taskset, a raw MQTT 3.1.1 connection over node:net
 * with the project's codec, and small statistics.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encode, MqttDecoder, type Packet } from "../src/protocols/mqtt/codec/index.js";

/** dist/src/cli/main.js, seen from dist/bench/. */
export const SWITCHBOARD_MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli", "main.js");

export const HAS_TASKSET = spawnSync("taskset", ["-V"], { stdio: "ignore" }).error === undefined;

/** Pins this process (the load generator) to core 0 when taskset exists and there are 2+ cores. */
export function pinSelf(cores: number): boolean {
  if (!HAS_TASKSET || cores < 2) return false;
  return spawnSync("taskset", ["-cp", "0", String(process.pid)], { stdio: "ignore" }).status === 0;
}

/** The command, prefixed with `taskset -c 1` when pinning. */
export function pinned(pin: boolean, cmd: string, args: string[]): [string, string[]] {
  return pin ? ["taskset", ["-c", "1", cmd, ...args]] : [cmd, args];
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child started here, so an interrupted run does not leave brokers behind. */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    for (const c of children) c.kill("SIGKILL");
    process.exit(130);
  });
}

export function startProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Proc {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  children.add(child);
  let text = "";
  const onData = (d: Buffer): void => {
    text += d.toString();
    if (text.length > 1_000_000) text = text.slice(-100_000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      children.delete(child);
      resolve();
    }),
  );
  return {
    child,
    output: () => text,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves with the first match of `re` in the process's output; rejects on exit or timeout. */
export function waitOutput(p: Proc, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = p.output().match(re);
      if (m) {
        cleanup();
        resolve(m);
      }
      return m !== null;
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`process exited (${code}) before ${re}: ${p.output().slice(-2000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} within ${timeoutMs} ms: ${p.output().slice(-2000)}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      p.child.stdout!.off("data", check);
      p.child.stderr!.off("data", check);
      p.child.off("exit", onExit);
    };
    p.child.stdout!.on("data", check);
    p.child.stderr!.on("data", check);
    p.child.once("exit", onExit);
    check();
  });
}

/** A TCP port that was free a moment ago (for brokers that cannot report a port 0 binding). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Retries a TCP connect until the port answers. */
export async function waitPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** VmRSS of a process in KiB (Linux); 0 if unknown. */
/** CPU time (user + system) a process has used so far, in ms, from /proc (0 where unavailable). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * A raw MQTT 3.1.1 connection: packets are decoded with the project's decoder and handed to
 * `onPacket` in batches (one call per socket chunk), so a handler can answer a whole chunk with
 * one write.
 */
export class RawConnection {
  onPackets: (ps: Packet[]) => void = () => {};
  /** Packets that arrived after the one next() waited for, in the same chunk (e.g. after CONNACK). */
  early: Packet[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new MqttDecoder({ maxPacketSize: 1 << 28 });

  private constructor(readonly socket: Socket) {
    this.decoder.version = 4;
    socket.setNoDelay(true);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      const ps: Packet[] = [];
      this.decoder.push(chunk, (p) => ps.push(p));
      if (ps.length > 0) this.onPackets(ps);
    });
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Connects and completes CONNECT/CONNACK (success expected); returns sessionPresent too. */
  static async open(
    port: number,
    clientId: string,
    clean: boolean,
  ): Promise<{ conn: RawConnection; sessionPresent: boolean }> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => resolve(s));
      s.once("error", reject);
    });
    const conn = new RawConnection(socket);
    const connack = conn.next("connack", 10_000);
    conn.send({ cmd: "connect", protocolName: "MQTT", protocolVersion: 4, clean, keepalive: 0, clientId });
    const ack = await connack;
    if (ack.cmd !== "connack" || ack.reasonCode !== 0) throw new Error(`${clientId}: CONNACK refused`);
    return { conn, sessionPresent: ack.sessionPresent };
  }

  /** The next packet with `cmd` (replaces onPackets until it arrives). */
  next(cmd: Packet["cmd"], timeoutMs: number): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${cmd} within ${timeoutMs} ms`)), timeoutMs);
      this.onPackets = (ps) => {
        const i = ps.findIndex((x) => x.cmd === cmd);
        if (i < 0) return;
        clearTimeout(timer);
        this.early = ps.slice(i + 1);
        this.onPackets = (more) => this.early.push(...more);
        resolve(ps[i]!);
      };
    });
  }

  send(p: Packet): void {
    this.socket.write(encode(p, 4));
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** DISCONNECT, then waits for the close (bounded). */
  async disconnect(): Promise<void> {
    this.send({ cmd: "disconnect" });
    this.socket.end();
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2000))]);
    this.socket.destroy();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Parses `--name value` flags into numbers, with defaults. */
export function numberFlags<T extends Record<string, number>>(argv: string[], defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!(key in defaults))
      throw new Error(`unknown option ${a}; options: ${Object.keys(defaults).join(", ")}`);
    const v = Number(argv[++i]);
    // 0 turns an optional step off (--warmup 0); counts and times must be positive.
    const min = defaults[key] === 0 || key === "warmup" ? 0 : Number.MIN_VALUE;
    if (!Number.isFinite(v) || v < min)
      throw new Error(`${a} needs a ${min === 0 ? "non-negative" : "positive"} number`);
    out[key] = v;
  }
  return out as T;
}
