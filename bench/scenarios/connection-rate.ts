/**
 * Connection rate: `concurrency` workers each loop connect → CONNECT → CONNACK → DISCONNECT → close;
 * completed cycles per second over the window.
 */

import net from "node:net";
import { HOST } from "../client.js";
import { measureWindow } from "../measure.js";
import { connectPacket, DISCONNECT } from "../packets.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";

function cycle(port: number, clientId: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port, noDelay: true });
    let ok = false;
    const timer = setTimeout(() => sock.destroy(), 5000);
    sock.on("connect", () => sock.write(connectPacket(clientId)));
    sock.once("data", (chunk: Buffer) => {
      ok = chunk[0] === 0x20 && chunk[3] === 0;
      sock.end(DISCONNECT);
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(ok);
    });
  });
}

export async function connectionRate(ctx: ScenarioContext, concurrency = 32): Promise<ScenarioResult> {
  let done = 0;
  let failed = 0;
  let running = true;
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; running; n++) {
      if (await cycle(ctx.port, `cr-${w}-${n}`)) done++;
      else failed++;
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  const win = await measureWindow(ctx, () => done);
  running = false;
  await Promise.all(workers);
  return {
    value: win.count / win.seconds,
    unit: "conn/s",
    higherIsBetter: true,
    messages: win.count,
    seconds: win.seconds,
    brokerCpuUs: win.brokerCpuUs,
    genCpuPct: win.genCpuPct,
    lost: failed,
    dup: 0,
    extra: { concurrency },
  };
}
