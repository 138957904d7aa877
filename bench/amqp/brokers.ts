/**
 * The two brokers of the AMQP benchmark, each pinned to one core: Switchboard (SQLite store,
 * default durability) and RabbitMQ 3.10 with one Erlang scheduler (`+S 1:1`), on private ports, node
 * name and epmd port so nothing else on the machine is touched.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../stats.js";

export type AmqpBrokerName = "switchboard" | "rabbitmq";

export interface AmqpBroker {
  name: AmqpBrokerName;
  port: number;
  /** The process doing the work (RabbitMQ: the beam.smp under its start script). */
  pid: number;
  stop(): Promise<void>;
}

export const RABBITMQ_SERVER = "/usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8/sbin/rabbitmq-server";

async function waitListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: "127.0.0.1" }, () => {
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

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Processes whose environment holds `marker` (the epmd our RabbitMQ started, which daemonizes). */
function pidsWithEnv(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(marker))
        out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export async function startAmqpBroker(name: AmqpBrokerName, port: number, core: number): Promise<AmqpBroker> {
  const dir = mkdtempSync(join(tmpdir(), `bench-amqp-${name}-`));
  if (name === "switchboard") {
    const child = spawn(
      "taskset",
      [
        "-c",
        String(core),
        process.execPath,
        "dist/src/cli/main.js",
        "start",
        "--stomp-port",
        "off",
        "--wamp-port",
        "off",
        "--xmpp-port",
        "off",
        "--coap-port",
        "off",
        "--data-dir",
        join(dir, "data"),
        "--mqtt-port",
        "off",
        "--http-port",
        "off",
        "--amqp-port",
        String(port),
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitListening(port, child, 20_000);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    return {
      name,
      port,
      pid: child.pid!,
      stop: async () => {
        child.kill("SIGTERM");
        await exited;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  mkdirSync(join(dir, "mnesia"));
  mkdirSync(join(dir, "log"));
  writeFileSync(
    join(dir, "rabbitmq.conf"),
    `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`,
  );
  // The AMQP 1.0 plugin: the AMQP 1.0 scenarios (gen10.ts) run on the same node and port.
  writeFileSync(join(dir, "enabled_plugins"), "[rabbitmq_amqp1_0].\n");
  const epmdPort = String(port + 1000);
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: `sbbench${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(port + 2000),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "+S 1:1",
    ERL_EPMD_PORT: epmdPort,
  };
  const child = spawn("taskset", ["-c", String(core), RABBITMQ_SERVER], { env, stdio: "ignore", cwd: dir });
  await waitListening(port, child, 60_000);
  const beam = childrenOf(child.pid!).find((p) =>
    readFileSync(`/proc/${p}/cmdline`, "latin1").includes("beam"),
  );
  if (!beam) throw new Error("rabbitmq: no beam.smp process found");
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    name,
    port,
    pid: beam,
    stop: async () => {
      process.kill(beam, "SIGTERM");
      const t = setTimeout(() => process.kill(beam, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
      for (const p of pidsWithEnv(`ERL_EPMD_PORT=${epmdPort}`)) {
        if (readFileSync(`/proc/${p}/cmdline`, "latin1").includes("epmd")) process.kill(p, "SIGTERM");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
