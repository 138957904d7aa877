/** Command dispatch for the `switchboard` bin, separate from main.ts so tests can call it in-process. */

import { ConfigError } from "../config/load.js";
import { UsageError } from "./args.js";
import { mainHelp, passwdHelp, startHelp, wampcraHelp } from "./help.js";
import { passwdCommand } from "./passwd.js";
import { startCommand } from "./start.js";
import { packageVersion } from "./version.js";
import { wampcraCommand } from "./wampcra.js";

/** Runs the command; resolves with the exit code, or undefined when the process should keep running. */
export async function run(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        process.stderr.write(mainHelp());
        return 2;
      case "--version":
      case "-v":
      case "version":
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(
          rest[0] === "start"
            ? startHelp()
            : rest[0] === "passwd"
              ? passwdHelp()
              : rest[0] === "wampcra"
                ? wampcraHelp()
                : mainHelp(),
        );
        return 0;
      case "start":
        return await startCommand(rest);
      case "passwd":
        return await passwdCommand(rest);
      case "wampcra":
        return await wampcraCommand(rest);
      default:
        throw new UsageError(
          command.startsWith("-") ? `unknown option ${command}` : `unknown command "${command}"`,
        );
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`switchboard: ${err.message} (see switchboard --help)\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`config error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`switchboard: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
