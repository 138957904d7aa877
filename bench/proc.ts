/** Reads another process's CPU time and resident memory from /proc (Linux only). */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let clockTicks = 0;

/** Clock ticks per second (`getconf CLK_TCK`, nearly always 100). */
export function clkTck(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of the whole process (all threads), in microseconds; 0 if it is gone. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5)
    return (ticks * 1e6) / clkTck();
  } catch {
    return 0;
  }
}

/** VmRSS in KiB; 0 if unknown. */
export function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
