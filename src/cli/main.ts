#!/usr/bin/env node
/** The `switchboard` command. See `switchboard --help` and README.md. */

import { run } from "./run.js";

const code = await run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
