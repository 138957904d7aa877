#!/usr/bin/env -S node --max-semi-space-size=4
/** The `switchboard` command. See `switchboard --help` and README.md. */

import { run } from "./run.js";

const code = await run(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
