/**
 * The two brokers of the STOMP benchmark, each started fresh per run on its own ports, pinned to one
 * core: Switchboard (`switchboard start`, memory store) and RabbitMQ 3.10 with its STOMP plugin (the
 * Debian `rabbitmq-server`, in a temp directory, one Erlang scheduler for its one core).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../stats.js";

export type StompBrokerName = "switchboard" | "rabbitmq";

export interface RunningStompBroker {
  name: StompBrokerName;
  port: number;
  /** The process doing the work (RabbitMQ: beam.smp, not its start script). */
  pid: number;
  /** Extra CONNECT headers this broker needs. */
  connectHeaders: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitStomp(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`not listening on ${port} after ${timeoutMs} ms`);
}

function spawnPinned(argv: string[], core: number | undefined, env?: NodeJS.ProcessEnv): ChildProcess {
  const full = core === undefined ? argv : ["taskset", "-c", String(core), ...argv];
  return spawn(full[0]!, full.slice(1), { stdio: ["ignore", "ignore", "pipe"], env: env ?? process.env });
}

function stopper(child: ChildProcess, pid: number, cleanup: () => void): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return async () => {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    if (child.exitCode === null && child.signalCode === null) {
      const t = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
        child.kill("SIGKILL");
      }, 10_000);
      await exited;
      clearTimeout(t);
    }
    cleanup();
  };
}

async function startSwitchboard(core: number | undefined): Promise<RunningStompBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "bench-stomp-sb-"));
  const child = spawnPinned(
    [
      process.execPath,
      "--max-semi-space-size=4",
      ...(process.env.BENCH_SWITCHBOARD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "dist/src/cli/main.js",
      "start",
      "--xmpp-port",
      "off",
      "--coap-port",
      "off",
      "--store",
      "memory",
      "--mqtt-port",
      "off",
      "--http-port",
      "off",
      "--stomp-port",
      String(port),
      "--wamp-port",
      "off",
      "--amqp-port",
      "off",
      "--log-level",
      "warn",
      "--data-dir",
      dir,
    ],
    core,
  );
  const stop = stopper(child, child.pid!, () => rmSync(dir, { recursive: true, force: true }));
  try {
    await waitStomp(port, child, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: "switchboard", port, pid: child.pid!, connectHeaders: "", stop };
}

/** The beam.smp process among the descendants of `root` (rabbitmq-server runs it via su and sh). */
function findBeam(root: number): number | undefined {
  const children = new Map<number, number[]>();
  const comm = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const pid = Number(entry);
      comm.set(pid, name);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {}
  }
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.shift()!;
    if (comm.get(pid) === "beam.smp") return pid;
    todo.push(...(children.get(pid) ?? []));
  }
  return undefined;
}

export const RABBITMQ_SERVER = "/usr/sbin/rabbitmq-server";

async function startRabbit(core: number | undefined): Promise<RunningStompBroker> {
  const [port, amqpPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "bench-stomp-rmq-"));
  const nodeName = `sbbench${process.pid}x${port}`;
  writeFileSync(
    join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `stomp.listeners.tcp.1 = 127.0.0.1:${port}`,
      "loopback_users = none",
      "log.console = false",
      "log.file.level = warning",
    ].join("\n"),
  );
  writeFileSync(join(dir, "enabled_plugins"), "[rabbitmq_stomp].\n");
  // rabbitmq-server drops to the rabbitmq user when started as root: it must own its directory.
  try {
    execFileSync("chown", ["-R", "rabbitmq:rabbitmq", dir]);
  } catch {
    chownSync(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  }
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: `${nodeName}@localhost`,
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_DIST_PORT: String(distPort),
    // One scheduler for the one core it is pinned to (the Erlang default would start one per CPU).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "+S 1:1",
  };
  execFileSync("mkdir", ["-p", join(dir, "mnesia"), join(dir, "log")]);
  execFileSync("chown", ["-R", "rabbitmq:rabbitmq", dir]);
  const child = spawnPinned([RABBITMQ_SERVER], core, env);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    await waitStomp(port, child, 60_000);
  } catch (err) {
    const beam = findBeam(child.pid!);
    if (beam) process.kill(beam, "SIGKILL");
    child.kill("SIGKILL");
    cleanup();
    throw new Error(`rabbitmq: ${(err as Error).message}\n${stderr}`);
  }
  const pid = findBeam(child.pid!);
  if (pid === undefined) {
    child.kill("SIGKILL");
    throw new Error("rabbitmq: beam.smp not found");
  }
  return {
    name: "rabbitmq",
    port,
    pid,
    connectHeaders: "login:guest\npasscode:guest\n",
    stop: stopper(child, pid, cleanup),
  };
}

export function startStompBroker(
  name: StompBrokerName,
  core: number | undefined,
): Promise<RunningStompBroker> {
  return name === "switchboard" ? startSwitchboard(core) : startRabbit(core);
}
