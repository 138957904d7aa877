/** The three measurements: CON GET rate with 32 in flight, notification rate to 1 and 16 observers, memory per observer. */
import type { Socket } from "node:dgram";
import { cpuMicros, rssKiB } from "../proc.js";
import { sleep } from "../stats.js";
import { emptyAck, emptyRst, header, openSocket, request } from "./udp-client.js";

const HOST = "127.0.0.1";

/** The payload of a CoAP message: options are walked (a 0xff byte may sit inside an option value). */
function payloadOf(d: Buffer): Buffer {
  let pos = 4 + (d[0]! & 0x0f);
  while (pos < d.length) {
    const b = d[pos++]!;
    if (b === 0xff) return d.subarray(pos);
    const delta = b >> 4;
    let len = b & 0x0f;
    if (delta === 13) pos++;
    else if (delta === 14) pos += 2;
    if (len === 13) len = d[pos++]! + 13;
    else if (len === 14) {
      len = d.readUInt16BE(pos) + 269;
      pos += 2;
    }
    pos += len;
  }
  return d.subarray(d.length);
}
const GET = 1;
const PUT = 3;
const ACK = 2;
const CON = 0;

/** Sends `req` until an ACK with `mid` arrives (a few tries). */
async function exchange(s: Socket, port: number, req: Buffer, mid: number): Promise<number> {
  for (let i = 0; i < 10; i++) {
    const code = await new Promise<number>((resolve) => {
      const t = setTimeout(() => {
        s.off("message", on);
        resolve(-1);
      }, 300);
      const on = (d: Buffer) => {
        const h = header(d);
        if (h.type === ACK && h.mid === mid) {
          clearTimeout(t);
          s.off("message", on);
          resolve(h.code);
        }
      };
      s.on("message", on);
      s.send(req, port, HOST);
    });
    if (code >= 0) return code;
  }
  throw new Error("no answer");
}

/** Answers pings from the server (a verification probe) so the generator counts as a normal client. */
function answerPings(s: Socket, port: number): void {
  s.on("message", (d) => {
    if (d.length === 4 && d[0]! >> 4 === 4 && d[1] === 0) s.send(emptyRst((d[2]! << 8) | d[3]!), port, HOST);
  });
}

export interface GetResult {
  perSecond: number;
  cpuMicrosPerRequest: number;
}

/** Confirmable GETs of one small resource, `inflight` outstanding, for `seconds` after a 1 s warm-up. */
export async function getRate(port: number, pid: number, seconds: number, inflight = 32): Promise<GetResult> {
  const s = await openSocket();
  answerPings(s, port);
  const path = ["ps", "bench", "get"];
  const created = await exchange(s, port, request(CON, PUT, 1, 1, path, undefined, Buffer.from("21.5 C")), 1);
  if (created >> 5 !== 2) throw new Error(`PUT answered ${created}`);
  let mid = 1;
  const sentAt = new Map<number, number>();
  let done = 0;
  let measuring = false;
  let stopped = false;
  const send = () => {
    mid = mid === 0xffff ? 2 : mid + 1;
    sentAt.set(mid, Date.now());
    s.send(request(CON, GET, mid, mid, path), port, HOST);
  };
  s.on("message", (d) => {
    const h = header(d);
    if (h.type !== ACK || !sentAt.delete(h.mid)) return;
    if (measuring) done++;
    if (!stopped) send();
  });
  // Lost datagrams (a full socket buffer) are sent again with the same id, as a client would.
  const retry = setInterval(() => {
    const old = Date.now() - 500;
    for (const [m, at] of sentAt) {
      if (at < old) {
        sentAt.set(m, Date.now());
        s.send(request(CON, GET, m, m, path), port, HOST);
      }
    }
  }, 100);
  for (let i = 0; i < inflight; i++) send();
  await sleep(1000);
  const cpu0 = cpuMicros(pid);
  measuring = true;
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuMicros(pid) - cpu0;
  stopped = true;
  clearInterval(retry);
  await sleep(200);
  s.close();
  return { perSecond: done / elapsed, cpuMicrosPerRequest: cpu / Math.max(1, done) };
}

export interface NotifyResult {
  perSecond: number;
  puts: number;
  expected: number;
  received: number;
  lost: number;
  cpuMicrosPerNotification: number;
}

/**
 * `observers` endpoints register (CON GET with Observe) on one resource and acknowledge every CON
 * notification; a publisher PUTs the resource in a closed loop (next PUT after the 2.04) for
 * `seconds`. Received = distinct values per observer; lost = PUTs x observers - received.
 */
export async function notifyRate(
  port: number,
  pid: number,
  observers: number,
  seconds: number,
): Promise<NotifyResult> {
  const path = ["ps", "bench", `obs${observers}`];
  const pub = await openSocket();
  answerPings(pub, port);
  await exchange(pub, port, request(CON, PUT, 1, 1, path, undefined, Buffer.from("-1")), 1);
  const maxValues = 10_000_000;
  const seen: Uint8Array[] = [];
  const counts: number[] = [];
  const socks: Socket[] = [];
  let lastNotificationAt = 0;
  for (let i = 0; i < observers; i++) {
    const s = await openSocket();
    answerPings(s, port);
    const bitmap = new Uint8Array(maxValues / 8);
    seen.push(bitmap);
    counts.push(0);
    const idx = i;
    s.on("message", (d) => {
      const h = header(d);
      if (h.type === CON) s.send(emptyAck(h.mid), port, HOST);
      if (h.code !== 0x45) return;
      const v = Number(payloadOf(d).toString());
      if (!(v >= 0 && v < maxValues)) return;
      const bit = 1 << (v & 7);
      if ((bitmap[v >> 3]! & bit) === 0) {
        bitmap[v >> 3]! |= bit;
        counts[idx]!++;
        lastNotificationAt = Date.now();
      }
    });
    const code = await exchange(s, port, request(CON, GET, 100 + i, 1000 + i, path, 0), 100 + i);
    if (code !== 0x45) throw new Error(`observe registration answered ${code}`);
    socks.push(s);
  }
  let value = 0;
  let mid = 1;
  let running = true;
  let pending = -1;
  const putNext = () => {
    mid = mid === 0xffff ? 2 : mid + 1;
    pending = mid;
    pub.send(request(CON, PUT, mid, mid, path, undefined, Buffer.from(String(value))), port, HOST);
  };
  pub.on("message", (d) => {
    const h = header(d);
    if (h.type !== ACK || h.mid !== pending) return;
    value++;
    if (running) putNext();
  });
  const retry = setInterval(() => {
    if (running && pending >= 0)
      pub.send(request(CON, PUT, pending, pending, path, undefined, Buffer.from(String(value))), port, HOST);
  }, 500);
  const cpu0 = cpuMicros(pid);
  const t0 = Date.now();
  putNext();
  await sleep(seconds * 1000);
  running = false;
  clearInterval(retry);
  // Let queued notifications drain: stop when none arrived for 5 s (longer than a retransmission).
  const drainDeadline = Date.now() + 30_000;
  while (Date.now() < drainDeadline && Date.now() - lastNotificationAt < 5000) await sleep(100);
  const cpu = cpuMicros(pid) - cpu0;
  const received = counts.reduce((a, b) => a + b, 0);
  const elapsed = (lastNotificationAt - t0) / 1000;
  const puts = value;
  for (const s of socks) s.close();
  pub.close();
  return {
    perSecond: received / Math.max(0.001, elapsed),
    puts,
    expected: puts * observers,
    received,
    lost: Math.max(0, puts * observers - received),
    cpuMicrosPerNotification: cpu / Math.max(1, received),
  };
}

/** Resident memory added per registered observer: `count` observations of 20 resources. */
export async function memoryPerObserver(port: number, pid: number, count: number): Promise<number> {
  const topics = 20;
  const pub = await openSocket();
  answerPings(pub, port);
  for (let t = 0; t < topics; t++) {
    await exchange(
      pub,
      port,
      request(CON, PUT, 10 + t, 10 + t, ["ps", "bench", "m", String(t)], undefined, Buffer.from("x")),
      10 + t,
    );
  }
  await sleep(1000);
  const rss0 = rssKiB(pid);
  const socks: Socket[] = [];
  const pending: Array<Set<number>> = [];
  const perSocket = topics;
  let registered = 0;
  const registration = (t: number) => request(CON, GET, 1 + t, t, ["ps", "bench", "m", String(t)], 0);
  for (let i = 0; i < count / perSocket; i++) {
    const s = await openSocket();
    answerPings(s, port);
    const waiting = new Set<number>();
    s.on("message", (d) => {
      const h = header(d);
      if (h.type === ACK && h.code === 0x45 && waiting.delete(h.token)) registered++;
    });
    for (let t = 0; t < perSocket; t++) {
      waiting.add(t);
      s.send(registration(t), port, HOST);
    }
    socks.push(s);
    pending.push(waiting);
    if (i % 10 === 9) await sleep(20);
  }
  // Registrations lost in a full socket buffer are sent again (same message id: de-duplicated).
  const deadline = Date.now() + 30_000;
  while (registered < count && Date.now() < deadline) {
    await sleep(500);
    socks.forEach((s, i) => {
      for (const t of pending[i]!) s.send(registration(t), port, HOST);
    });
  }
  await sleep(1500);
  const rss1 = rssKiB(pid);
  for (const s of socks) s.close();
  pub.close();
  if (registered < count) throw new Error(`only ${registered} of ${count} observers registered`);
  return ((rss1 - rss0) * 1024) / count;
}
