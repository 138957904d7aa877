/**
 * The AMQP 1.0 load generator (same conventions as gen.ts): one scenario against a broker, one JSON
 * line. Hand-built frames (client10.ts); senders are closed-loop (a bounded number of messages sent
 * and not yet received) and never exceed the link credit the broker grants.
 *
 *   node dist/bench/amqp/gen10.js <scenario> <port> <broker pid> [warmupMs] [measureMs]
 */
import { rssKiB } from "../proc.js";
import { Bench10Connection, messageBytes, patchIds, transfers } from "./client10.js";
import { BODY_SIZE } from "./frames.js";
import { measureWindow, type WindowResult } from "./window.js";

export type Scenario10Id = "amqp10-presettled" | "amqp10-unsettled" | "amqp10-fanout16" | "amqp10-stall";

const [scenario, portArg, pidArg, warmArg, measureArg] = process.argv.slice(2) as [
  Scenario10Id,
  string,
  string,
  string?,
  string?,
];
const port = Number(portArg);
const brokerPid = Number(pidArg);
const WARMUP = Number(warmArg ?? 1000);
const MEASURE = Number(measureArg ?? 3000);
const BATCH = 32;
const WINDOW = Number(process.env.BENCH_AMQP_WINDOW ?? 131_072);
const RECEIVER_CREDIT = 5000;
const message = messageBytes(Buffer.alloc(BODY_SIZE, 0x61));

/** Counts `count()` over the measuring window, with broker and generator CPU. */
function window(count: () => number): Promise<WindowResult> {
  return measureWindow(count, brokerPid, WARMUP, MEASURE);
}

/** A receiving link that tops its credit up when half is used; unsettled ones accept per read. */
async function receiver(
  address: string,
  settled: boolean,
  onMessage: () => void,
): Promise<Bench10Connection> {
  const c = await Bench10Connection.open(port);
  let received = 0;
  let granted = RECEIVER_CREDIT;
  let first = -1;
  let last = -1;
  c.onTransfer = (_h, id) => {
    received++;
    onMessage();
    if (!settled) {
      if (first < 0) first = id;
      last = id;
    }
  };
  c.onChunkEnd = () => {
    if (first >= 0) {
      c.accept(first, last);
      first = -1;
    }
    if (granted - received < RECEIVER_CREDIT / 2) {
      c.flow(0, received, RECEIVER_CREDIT);
      granted = received + RECEIVER_CREDIT;
    }
  };
  await c.attachReceiver(0, address, settled, RECEIVER_CREDIT);
  return c;
}

/** A closed-loop sender within the broker's credit: sends while fewer than `window` are outstanding. */
function sender(
  c: Bench10Connection,
  settled: boolean,
  outstanding: () => number,
  window: number,
  onSent: (n: number) => void,
) {
  const full = transfers(0, settled, message, BATCH);
  let busy = false;
  const kick = (): void => {
    while (!busy) {
      const n = Math.min(BATCH, c.credit.get(0)!, window - outstanding());
      if (n <= 0) return;
      const out = n === BATCH ? Buffer.from(full) : transfers(0, settled, message, n);
      patchIds(out, message.length, c.nextOutgoingId);
      c.nextOutgoingId += n;
      c.credit.set(0, c.credit.get(0)! - n);
      c.sentCount.set(0, c.sentCount.get(0)! + n);
      onSent(n);
      if (!c.socket.write(out)) {
        busy = true;
        c.socket.once("drain", () => {
          busy = false;
          kick();
        });
      }
    }
  };
  c.onCredit = kick;
  return kick;
}

interface Result {
  scenario: Scenario10Id;
  value: number;
  unit: string;
  brokerCpuPct: number;
  genCpuPct: number;
  extras: Record<string, number | string>;
}

async function queue(settled: boolean): Promise<Result> {
  const address = `/queue/bench10-${settled ? "pre" : "unsettled"}`;
  let received = 0;
  let sent = 0;
  const kicks: Array<() => void> = [];
  const rc = await receiver(address, settled, () => {
    received++;
    if ((received & 63) === 0) for (const k of kicks) k();
  });
  const conns = await Promise.all([0, 1, 2, 3].map(() => Bench10Connection.open(port)));
  for (const c of conns) {
    await c.attachSender(0, address, settled);
    kicks.push(
      sender(
        c,
        settled,
        () => sent - received,
        WINDOW,
        (n) => (sent += n),
      ),
    );
  }
  for (const k of kicks) k();
  const w = await window(() => received);
  for (const c of [...conns, rc]) c.close();
  return {
    scenario: settled ? "amqp10-presettled" : "amqp10-unsettled",
    value: w.rate,
    unit: "msg/s",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: {},
  };
}

async function fanout(): Promise<Result> {
  const N = 16;
  let delivered = 0;
  let sent = 0;
  let kick = (): void => {};
  const receivers: Bench10Connection[] = [];
  for (let i = 0; i < N; i++) {
    receivers.push(
      await receiver("/topic/bench10.fan.*", true, () => {
        delivered++;
        if ((delivered & 255) === 0) kick();
      }),
    );
  }
  const c = await Bench10Connection.open(port);
  await c.attachSender(0, "/topic/bench10.fan.x", true);
  kick = sender(
    c,
    true,
    () => sent - Math.floor(delivered / N),
    WINDOW / N,
    (n) => (sent += n),
  );
  kick();
  const w = await window(() => delivered);
  for (const x of [c, ...receivers]) x.close();
  return {
    scenario: "amqp10-fanout16",
    value: w.rate,
    unit: "deliveries/s",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: {},
  };
}

/**
 * A receiver on a topic grants 100 credits and never more; a sender sends as fast as the broker's
 * credit lets it for the measuring window. The headline is the broker's RSS growth: bounded memory.
 */
async function stall(): Promise<Result> {
  const rc = await Bench10Connection.open(port);
  await rc.attachReceiver(0, "/topic/bench10.stall", true, 100);
  const c = await Bench10Connection.open(port);
  await c.attachSender(0, "/topic/bench10.stall", true);
  const before = rssKiB(brokerPid);
  let sent = 0;
  const kick = sender(
    c,
    true,
    () => 0,
    1,
    (n) => (sent += n),
  );
  const timer = setInterval(kick, 1);
  const w = await window(() => sent);
  clearInterval(timer);
  const after = rssKiB(brokerPid);
  c.close();
  rc.close();
  return {
    scenario: "amqp10-stall",
    value: (after - before) / 1024,
    unit: "MiB RSS growth",
    brokerCpuPct: w.brokerCpuPct,
    genCpuPct: w.genCpuPct,
    extras: { sentPerSec: Math.round(w.rate), rssBeforeKiB: before, rssAfterKiB: after },
  };
}

const runners: Record<Scenario10Id, () => Promise<Result>> = {
  "amqp10-presettled": () => queue(true),
  "amqp10-unsettled": () => queue(false),
  "amqp10-fanout16": fanout,
  "amqp10-stall": stall,
};

const result = await runners[scenario]();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
