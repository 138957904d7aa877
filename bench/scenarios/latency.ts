/**
 * Latency at a fixed rate: one pair, QoS 0, one PUBLISH per write every 1/rate s (paced by a
 * setImmediate loop, so the generator shows ~100% CPU here by design), the send time (performance.now(),
 * same process) in the payload; the subscriber records receive - send.
 */

import { attach, closeAll, openClient, type RawClient } from "../client.js";
import { measureWindow } from "../measure.js";
import { PUBLISH, publishTemplate } from "../packets.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { quantile, sleep } from "../stats.js";

export async function latency(ctx: ScenarioContext, rate = 5000): Promise<ScenarioResult> {
  const all: RawClient[] = [];
  try {
    const sub = await openClient(ctx.port, "lat-s", { filter: "bench/latency", qos: 0 });
    all.push(sub);
    const pub = await openClient(ctx.port, "lat-p");
    all.push(pub);
    const tpl = publishTemplate("bench/latency", 64, 0);
    const samples = new Float64Array(Math.ceil((rate * (ctx.warmupMs + ctx.measureMs)) / 1000) + rate);
    let n = 0;
    let recording = false;
    let received = 0;
    attach(sub, true, (byte1, buf, start) => {
      if (byte1 >> 4 !== PUBLISH) return;
      received++;
      if (!recording || n >= samples.length) return;
      const topicLen = ((buf[start] as number) << 8) | (buf[start + 1] as number);
      samples[n++] = performance.now() - buf.readDoubleLE(start + 2 + topicLen);
    });
    attach(pub, false, () => {});
    const interval = 1000 / rate;
    let next = performance.now();
    let sent = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      const now = performance.now();
      if (now >= next) {
        const out = Buffer.from(tpl.bytes);
        out.writeDoubleLE(performance.now(), tpl.payloadAt);
        pub.sock.write(out);
        sent++;
        next += interval;
        if (now - next > 50) next = now; // fell far behind (a GC pause): do not burst to catch up
      }
      setImmediate(tick);
    };
    setImmediate(tick);
    const win = await measureWindow(ctx, () => {
      recording = !recording; // on at the window's start, off at its end
      return received;
    });
    running = false;
    await sleep(50); // the last message may still be on its way
    const lat = samples.subarray(0, n);
    return {
      value: quantile(lat, 0.5) * 1000,
      unit: "µs p50",
      higherIsBetter: false,
      messages: win.count,
      seconds: win.seconds,
      brokerCpuUs: win.brokerCpuUs,
      genCpuPct: win.genCpuPct,
      lost: Math.max(0, sent - received),
      dup: 0,
      extra: {
        p99Us: quantile(lat, 0.99) * 1000,
        p999Us: quantile(lat, 0.999) * 1000,
        maxUs: quantile(lat, 1) * 1000,
        ratePerSec: win.count / win.seconds,
      },
    };
  } finally {
    await closeAll(all);
  }
}
