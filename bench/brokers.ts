/**
 * Starting and stopping the brokers under test, each on its own port and (with taskset) its own core.
 * Only processes started here are ever signalled, by their pid.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "./stats.js";

export type BrokerName = "switchboard" | "mosquitto" | "aedes" | "reflector";
export const BROKERS: readonly BrokerName[] = ["switchboard", "mosquitto", "aedes"];

export interface RunningBroker {
  name: BrokerName;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export const MOSQUITTO = "/usr/sbin/mosquitto";

/**
 * Mosquitto settings: no persistence, queues and in-flight windows far above what the QoS 1/2 scenarios
 * keep outstanding (so nothing is dropped). TCP_NODELAY stays at Mosquitto's default (off): with it on,
 * Mosquitto sends one segment per message and measured 30-35% slower here (fan-out, QoS 1 pairs) with
 * the same p50 latency.
 */
export function mosquittoConf(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest none",
    "max_queued_messages 100000",
    "max_inflight_messages 1000",
    "",
  ].join("\n");
}

/** The same queue and in-flight limits as the Mosquitto config (Switchboard's defaults: 1000 and 100). */
export const SWITCHBOARD_CONFIG = { mqtt: { maxQueuedMessages: 100000, maxInflight: 1000 } };

function command(name: BrokerName, port: number, dir: string): string[] {
  switch (name) {
    case "switchboard":
      writeFileSync(join(dir, "switchboard.json"), JSON.stringify(SWITCHBOARD_CONFIG));
      return [
        process.execPath,
        // The same V8 flag as the `switchboard` bin and `npm start` (a smaller young generation:
        // less memory per idle connection), so the benchmark measures what users run.
        "--max-semi-space-size=4",
        ...(process.env.BENCH_SWITCHBOARD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
        "dist/src/cli/main.js",
        "start",
        "--store",
        "memory",
        "--mqtt-port",
        String(port),
        "--http-port",
        "off",
        "--wamp-port",
        "off",
        "--amqp-port",
        "off",
        "--stomp-port",
        "off",
        "--xmpp-port",
        "off",
        "--coap-port",
        "off",
        "--log-level",
        "warn",
        "--data-dir",
        dir,
        "--config",
        join(dir, "switchboard.json"),
      ];
    case "aedes":
      return [process.execPath, "dist/bench/aedes-server.js", String(port)];
    case "reflector":
      return [process.execPath, "dist/bench/reflector.js", String(port)];
    case "mosquitto": {
      const conf = join(dir, "mosquitto.conf");
      writeFileSync(conf, mosquittoConf(port));
      return [MOSQUITTO, "-c", conf];
    }
  }
}

/** Resolves once 127.0.0.1:port accepts connections. */
async function waitListening(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
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
    await sleep(50);
  }
  throw new Error(`not listening on ${port} after ${timeoutMs} ms`);
}

/** `core` pins the broker with taskset when given. Run from the project root. */
export async function startBroker(
  name: BrokerName,
  port: number,
  core: number | undefined,
): Promise<RunningBroker> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const r = await startPinned(name, command(name, port, dir), port, core, dir);
  return { ...r, name };
}

/**
 * Starts `argv` (pinned to `core` with taskset when given) and waits until it listens on `port`.
 * `dir` is removed when it stops. Used by every benchmark here (MQTT and WAMP).
 */
export async function startPinned(
  name: string,
  argv: string[],
  port: number,
  core: number | undefined,
  dir: string,
): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const full = core === undefined ? argv : ["taskset", "-c", String(core), ...argv];
  const child = spawn(full[0] as string, full.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    cleanup();
  };
  try {
    await waitListening(port, child);
  } catch (err) {
    await stop();
    throw new Error(`${name}: ${(err as Error).message}\n${stderr}`);
  }
  return { port, pid: child.pid as number, stop };
}
