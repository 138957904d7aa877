/**
 * Interop tests drive third-party programs (mosquitto_pub/sub, Eclipse Paho). Missing programs
 * skip the test on a developer machine, but fail under CI=true: CI must run every interop test.
 */
import { spawn, spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

export function requireProgram(t: TestContext, program: string, args: string[] = ["--help"]): boolean {
  const r = spawnSync(program, args, { stdio: "ignore", timeout: 5000 });
  if (!r.error) return true;
  if (process.env.CI === "true") throw new Error(`${program} is required in CI (see .ci/run)`);
  t.skip(`${program} not installed`);
  return false;
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program to completion (bounded by `timeoutMs`), optionally feeding stdin. */
export function run(
  program: string,
  args: string[],
  opts: { timeoutMs?: number; input?: Buffer } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${program} ${args.join(" ")} timed out; stderr: ${err}`));
    }, opts.timeoutMs ?? 10_000);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(opts.input);
  });
}

/** Starts a long-running program and resolves once `ready` appears on its stdout or stderr. */
export function startProgram(program: string, args: string[], ready: RegExp, timeoutMs = 10_000) {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const stdout: Buffer[] = [];
  const started = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${program} did not become ready: ${text}`)), timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString();
      const m = text.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on("data", (d: Buffer) => {
      stdout.push(d);
      onData(d);
    });
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${program} exited with ${code}: ${text}`));
    });
  });
  started.catch(() => {}); // callers that don't wait for readiness must not see an unhandled rejection
  // "close", not "exit": "exit" can fire before the last stdout bytes were read from the pipe.
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, started, exited, output: () => text, stdout: () => Buffer.concat(stdout) };
}

/** Polls `cond` every 10 ms until it holds, or rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
