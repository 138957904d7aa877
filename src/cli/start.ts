/** `switchboard start`: load the config, apply the anonymous policy, run the broker until a signal. */

import { startBroker } from "../broker.js";
import { loadConfig } from "../config/load.js";
import { checkAnonymousPolicy } from "../config/policy.js";
import { createLogger, type Logger } from "../core/logger.js";
import { parseStartArgs } from "./args.js";
import { startHelp } from "./help.js";
import { packageVersion } from "./version.js";

/** Resolves once the broker runs (undefined), or with an exit code when it could not start. */
export async function startCommand(argv: readonly string[]): Promise<number | undefined> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(startHelp());
    return 0;
  }
  const args = parseStartArgs(argv);
  const config = await loadConfig(args);
  const policy = checkAnonymousPolicy(config);
  if (policy.error) {
    process.stderr.write(`config error: ${policy.error}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel);
  log.info("switchboard starting", {
    version: packageVersion(),
    host: config.host,
    store: config.store,
    config: args.configFile,
  });
  if (policy.warning) log.warn(policy.warning);
  // Signals are handled from now on, so one that arrives while starting is not lost.
  const shutdown = new ShutdownOnSignals(log);
  try {
    const handle = await startBroker(config, log);
    shutdown.attach(handle);
    // SIGHUP re-reads the users and ACL files without dropping anyone, as Mosquitto does.
    process.on("SIGHUP", () => {
      handle.reloadAuth().then(
        () => log.info("users and ACL reloaded"),
        (err: unknown) => log.error("reload failed; keeping the previous users and ACL", { error: err }),
      );
    });
  } catch (err) {
    shutdown.detach();
    log.error("start failed", { error: err });
    return 1;
  }
  return undefined;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * SIGINT/SIGTERM: close the broker once, then exit 0 (1 if closing failed); a second signal exits 1
 * at once. A signal during start-up closes the broker as soon as it has started.
 */
class ShutdownOnSignals {
  private handle: Closable | undefined;
  private signal: NodeJS.Signals | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.signal) {
      this.log.warn("second signal: exiting without finishing the shutdown", { signal });
      process.exit(1);
    }
    this.signal = signal;
    if (this.handle) this.close(this.handle);
  };

  constructor(private readonly log: Logger) {
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  attach(handle: Closable): void {
    this.handle = handle;
    if (this.signal) this.close(handle);
  }

  detach(): void {
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }

  private close(handle: Closable): void {
    this.log.info("shutting down", { signal: this.signal });
    handle.close().then(
      () => {
        this.log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        this.log.error("shutdown failed", { error: err });
        process.exit(1);
      },
    );
  }
}
