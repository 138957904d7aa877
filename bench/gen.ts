/**
 * The load generator process: runs one scenario against 127.0.0.1:<port> and prints its result as one
 * JSON line. The driver pins it to its own core. Usage: node dist/bench/gen.js '<ScenarioContext JSON
 * plus "scenario">'.
 */

import type { ScenarioContext } from "./scenario.js";
import { SCENARIOS } from "./scenarios/index.js";

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ScenarioContext & { scenario: string };
  const def = SCENARIOS[args.scenario];
  if (!def) throw new Error(`unknown scenario ${args.scenario}`);
  const run = def.run;
  const result = await run(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`generator: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
