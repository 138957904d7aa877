/**
 * QoS 1 and QoS 2 pairs: each publisher keeps `inflight` PUBLISHes outstanding (a new one per PUBACK or
 * PUBCOMP), each subscriber acknowledges (PUBACK, or PUBREC then PUBCOMP) in one write per read.
 * Payloads carry a sequence number; at the end every acknowledged message must have been delivered
 * (QoS 1: at least once; QoS 2: exactly once).
 */

import type net from "node:net";
import { attach, closeAll, openClient, openMany, type RawClient } from "../client.js";
import { measureWindow } from "../measure.js";
import {
  PUBACK,
  PUBCOMP,
  PUBLISH,
  PUBREC,
  PUBREL,
  type PublishTemplate,
  publishTemplate,
  writeAck,
} from "../packets.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { SeenSet } from "../seen.js";
import { sleep } from "../stats.js";

/** Batches 4-byte acks and writes them once per read. */
class AckBatch {
  private buf = Buffer.allocUnsafe(4096);
  private len = 0;

  constructor(private readonly sock: net.Socket) {}

  add(type: number, id: number): void {
    if (this.len + 4 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    writeAck(this.buf, this.len, type, id);
    this.len += 4;
  }

  flush(): void {
    if (this.len === 0) return;
    this.sock.write(this.buf.subarray(0, this.len));
    this.buf = Buffer.allocUnsafe(this.buf.length); // the written bytes belong to the socket now
    this.len = 0;
  }
}

class Publisher {
  sent = 0;
  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) received. */
  completed = 0;
  stopping = false;
  private nextId = 1;
  private readonly busy = new Uint8Array(65536);
  private freed = 0;
  readonly acks: AckBatch;

  constructor(
    readonly sock: net.Socket,
    private readonly tpl: PublishTemplate,
    private readonly qos: 1 | 2,
    private readonly inflight: number,
  ) {
    this.acks = new AckBatch(sock);
  }

  start(): void {
    this.send(this.inflight);
  }

  onPacket = (byte1: number, buf: Buffer, start: number): void => {
    const type = byte1 >> 4;
    const id = ((buf[start] as number) << 8) | (buf[start + 1] as number);
    if (type === (this.qos === 1 ? PUBACK : PUBCOMP)) {
      this.busy[id] = 0;
      this.completed++;
      this.freed++;
    } else if (type === PUBREC) {
      this.acks.add(PUBREL, id);
    }
  };

  afterChunk = (): void => {
    this.acks.flush();
    const n = this.freed;
    this.freed = 0;
    if (n > 0 && !this.stopping) this.send(n);
  };

  outstanding(): number {
    return this.sent - this.completed;
  }

  /** `n` new PUBLISHes in one write: copies of the template with the packet id and sequence patched. */
  private send(n: number): void {
    const t = this.tpl.bytes;
    const out = Buffer.allocUnsafe(t.length * n);
    for (let k = 0; k < n; k++) {
      const at = k * t.length;
      t.copy(out, at);
      let id = this.nextId;
      while (this.busy[id] === 1) id = id === 65535 ? 1 : id + 1;
      this.nextId = id === 65535 ? 1 : id + 1;
      this.busy[id] = 1;
      out.writeUInt16BE(id, at + this.tpl.idAt);
      out.writeUInt32BE(this.sent++, at + this.tpl.payloadAt);
    }
    this.sock.write(out);
  }
}

class Subscriber {
  readonly seen = new SeenSet();
  readonly acks: AckBatch;

  constructor(sock: net.Socket) {
    this.acks = new AckBatch(sock);
  }

  onPacket = (byte1: number, buf: Buffer, start: number): void => {
    const type = byte1 >> 4;
    if (type === PUBLISH) {
      const topicLen = ((buf[start] as number) << 8) | (buf[start + 1] as number);
      const idAt = start + 2 + topicLen;
      const qos = (byte1 >> 1) & 3;
      if (qos > 0) {
        const id = ((buf[idAt] as number) << 8) | (buf[idAt + 1] as number);
        this.acks.add(qos === 1 ? PUBACK : PUBREC, id);
      }
      this.seen.add(buf.readUInt32BE(idAt + (qos > 0 ? 2 : 0)));
    } else if (type === PUBREL) {
      this.acks.add(PUBCOMP, ((buf[start] as number) << 8) | (buf[start + 1] as number));
    }
  };

  afterChunk = (): void => this.acks.flush();
}

export async function runAckedPairs(
  ctx: ScenarioContext,
  qos: 1 | 2,
  pairs = 32,
  inflight = 100,
): Promise<ScenarioResult> {
  const all: RawClient[] = [];
  try {
    const subClients = await openMany(pairs, 16, (i) =>
      openClient(ctx.port, `q${qos}-s${i}`, { filter: `bench/q${qos}/${i}`, qos }),
    );
    all.push(...subClients);
    const pubClients = await openMany(pairs, 16, (i) => openClient(ctx.port, `q${qos}-p${i}`));
    all.push(...pubClients);
    const subs = subClients.map((c) => {
      const s = new Subscriber(c.sock);
      attach(c, true, s.onPacket, s.afterChunk);
      return s;
    });
    const pubs = pubClients.map((c, i) => {
      const p = new Publisher(c.sock, publishTemplate(`bench/q${qos}/${i}`, 64, qos), qos, inflight);
      attach(c, true, p.onPacket, p.afterChunk);
      return p;
    });
    for (const p of pubs) p.start();
    const delivered = (): number => subs.reduce((a, s) => a + s.seen.unique, 0);
    const completed = (): number => pubs.reduce((a, p) => a + p.completed, 0);
    let c0 = 0;
    const win = await measureWindow(ctx, () => {
      // Called at the window's start and end: the second call's value is what gets reported.
      const d = delivered();
      c0 = completed() - c0;
      return d;
    });
    const ackedPerSec = c0 / win.seconds;
    for (const p of pubs) p.stopping = true;
    // Drain: every publisher's window acknowledged and every sent message delivered, or 5 s.
    const sent = (): number => pubs.reduce((a, p) => a + p.sent, 0);
    for (let i = 0; i < 500; i++) {
      if (pubs.every((p) => p.outstanding() === 0) && delivered() >= sent()) break;
      await sleep(10);
    }
    let lost = 0;
    let unacked = 0;
    for (let i = 0; i < pairs; i++) {
      const p = pubs[i] as Publisher;
      lost += (subs[i] as Subscriber).seen.missingBelow(p.sent);
      unacked += p.outstanding();
    }
    return {
      value: win.count / win.seconds,
      unit: "msg/s",
      higherIsBetter: true,
      messages: win.count,
      seconds: win.seconds,
      brokerCpuUs: win.brokerCpuUs,
      genCpuPct: win.genCpuPct,
      lost,
      dup: subs.reduce((a, s) => a + s.seen.dup, 0),
      extra: { ackedPerSec, sent: sent(), unackedAtEnd: unacked },
    };
  } finally {
    await closeAll(all);
  }
}

export const pairsQos1 = (ctx: ScenarioContext): Promise<ScenarioResult> => runAckedPairs(ctx, 1);
export const pairsQos2 = (ctx: ScenarioContext): Promise<ScenarioResult> => runAckedPairs(ctx, 2);
