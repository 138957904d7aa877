/**
 * The CoAP servers under test: Switchboard (--coap-port) and libcoap's coap-server (C), each pinned
 * with taskset; and, for get-floor.ts, a responder with no CoAP logic (floor-responder.ts). Only the processes started here are signalled, by their pid.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../stats.js";
import { ping } from "./udp-client.js";

/** node-floor: the do-nothing Node.js responder of floor-responder.ts (GET only). */
export type CoapServerName = "switchboard" | "libcoap" | "node-floor";

export interface RunningServer {
  name: CoapServerName;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Load generation comes from one address: no rate limit; the generator answers pings anyway. */
const SWITCHBOARD_CONFIG = { coap: { rateLimit: 0, ipv6: false, maxObserversPerPeer: 100_000 } };

/** Debian's libcoap3-bin names the server by TLS library; other builds install plain coap-server. */
export function libcoapServer(): string {
  const names = ["coap-server-notls", "coap-server", "coap-server-openssl", "coap-server-gnutls"];
  return names.find((n) => !spawnSync(n, ["-h"], { stdio: "ignore", timeout: 5000 }).error) ?? names[0]!;
}

function command(name: CoapServerName, port: number, dir: string): string[] {
  if (name === "libcoap") {
    // -d: PUT creates resources (observable), as many as the scenarios need.
    return [libcoapServer(), "-A", "127.0.0.1", "-p", String(port), "-d", "1000", "-v", "0"];
  }
  if (name === "node-floor") {
    return [process.execPath, "--max-semi-space-size=4", "dist/bench/coap/floor-responder.js", String(port)];
  }
  writeFileSync(join(dir, "switchboard.json"), JSON.stringify(SWITCHBOARD_CONFIG));
  return [
    process.execPath,
    "--max-semi-space-size=4",
    // e.g. BENCH_SWITCHBOARD_NODE_ARGS=--cpu-prof to profile the server
    ...(process.env.BENCH_SWITCHBOARD_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    "dist/src/cli/main.js",
    "start",
    "--stomp-port",
    "off",
    "--wamp-port",
    "off",
    "--amqp-port",
    "off",
    "--xmpp-port",
    "off",
    "--store",
    "memory",
    "--mqtt-port",
    "off",
    "--mqtts-port",
    "off",
    "--http-port",
    "off",
    "--coap-port",
    String(port),
    "--log-level",
    "warn",
    "--data-dir",
    dir,
    "--config",
    join(dir, "switchboard.json"),
  ];
}

export async function startServer(
  name: CoapServerName,
  port: number,
  core: number | undefined,
): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), `bench-coap-${name}-`));
  const argv = command(name, port, dir);
  const full = core === undefined ? argv : ["taskset", "-c", String(core), ...argv];
  const child: ChildProcess = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await ping(port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer a CoAP ping on ${port}: ${stderr}`);
    }
    await sleep(50);
  }
  return { name, port, pid: child.pid!, stop };
}
