/**
 * A real `switchboard start` process on a data directory, for the durability tests: started on
 * port 0 (or a given port, to restart where clients expect it), killed with SIGKILL or stopped with
 * SIGTERM, and restarted on the same directory.
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProgram } from "../helpers/external.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

export interface BrokerProcess {
  port: number;
  pid: number;
  output(): string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Writes a config file with a queue bound large enough for the tests' backlogs. */
export async function writeBrokerConfig(dir: string, extra = ""): Promise<string> {
  const file = join(dir, "switchboard.yaml");
  await writeFile(file, `mqtt:\n  maxQueuedMessages: 1000000\n${extra}`);
  return file;
}

export async function startBroker(opts: {
  dataDir: string;
  config?: string;
  port?: number;
}): Promise<BrokerProcess> {
  const args = [
    MAIN,
    "start",
    "--mqtt-port",
    String(opts.port ?? 0),
    "--http-port",
    "off",
    "--stomp-port",
    "0",
    "--wamp-port",
    "off",
    "--amqp-port",
    "0",
    "--xmpp-port",
    "off",
    "--coap-port",
    "off",
    "--data-dir",
    opts.dataDir,
  ];
  if (opts.config) args.push("--config", opts.config);
  const p = startProgram(process.execPath, args, /mqtt listening.* port=(\d+)/, 20_000);
  let m: RegExpMatchArray;
  try {
    m = await p.started;
  } catch (err) {
    p.child.kill("SIGKILL");
    throw err;
  }
  const gone = new Promise<void>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) resolve();
    else p.child.once("exit", () => resolve());
  });
  return {
    port: Number(m[1]),
    pid: p.child.pid!,
    output: p.output,
    kill: async () => {
      p.child.kill("SIGKILL");
      await gone;
    },
    stop: async () => {
      p.child.kill("SIGTERM");
      return p.exited;
    },
  };
}
