/**
 * A raw AMQP 1.0 connection for the load generator: SASL PLAIN guest/guest, open, one session,
 * links attached by hand, transfers built once and patched per message (delivery-id and tag at fixed
 * offsets), incoming transfers counted from the frame header without decoding the message.
 */
import { connect as netConnect, type Socket } from "node:net";
import { Writer } from "../../src/protocols/amqp10/codec/encoder.js";
import {
  AMQP_HEADER,
  decodeFrame,
  encodeFrame,
  type Frame,
  P,
  SASL_HEADER,
} from "../../src/protocols/amqp10/codec/frames.js";
import {
  bin,
  bool,
  described,
  list,
  NULL,
  numberOf,
  str,
  ubyte,
  uint,
} from "../../src/protocols/amqp10/codec/types.js";

const U32 = 0x1_0000_0000;

export class Bench10Connection {
  /** An incoming transfer: (handle, delivery-id, settled). */
  onTransfer: (handle: number, id: number, settled: boolean) => void = () => {};
  /** Outcomes for our unsettled sends: first..last delivery ids. */
  onDisposition: (first: number, last: number) => void = () => {};
  /** Link credit the broker granted to our sending links, by handle. */
  readonly credit = new Map<number, number>();
  readonly sentCount = new Map<number, number>();
  onCredit: () => void = () => {};
  onChunkEnd: () => void = () => {};
  nextOutgoingId = 0;
  private pending: Buffer | undefined;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private header = 0;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.push(chunk);
      this.onChunkEnd();
    });
    socket.on("error", () => {});
  }

  static async open(port: number): Promise<Bench10Connection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1", noDelay: true }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new Bench10Connection(socket);
    c.header = 1;
    socket.write(SASL_HEADER);
    await c.next((f) => f.code === P.saslMechanisms);
    socket.write(
      encodeFrame(1, 0, P.saslInit, [{ type: "symbol", value: "PLAIN" }, bin(Buffer.from("\0guest\0guest"))]),
    );
    await c.next((f) => f.code === P.saslOutcome);
    c.header = 1;
    socket.write(AMQP_HEADER);
    socket.write(encodeFrame(0, 0, P.open, [str(`bench-${Math.random()}`), NULL, uint(65536), NULL, NULL]));
    await c.next((f) => f.code === P.open);
    socket.write(encodeFrame(0, 0, P.begin, [NULL, uint(0), uint(0x7fffffff), uint(0x7fffffff)]));
    await c.next((f) => f.code === P.begin);
    return c;
  }

  next(pred: (f: Frame) => boolean): Promise<Frame> {
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Attaches a sending link (settled: snd-settle-mode settled) and waits for the broker's attach. */
  async attachSender(handle: number, address: string, settled: boolean): Promise<void> {
    this.credit.set(handle, 0);
    this.sentCount.set(handle, 0);
    this.socket.write(
      encodeFrame(0, 0, P.attach, [
        str(`s${handle}-${Math.random()}`),
        uint(handle),
        bool(false),
        ubyte(settled ? 1 : 0),
        ubyte(0),
        described(P.source, list([])),
        described(P.target, list([str(address)])),
        NULL,
        NULL,
        uint(0),
      ]),
    );
    await this.next((f) => f.code === P.attach);
  }

  /** Attaches a receiving link and grants `credit`. */
  async attachReceiver(handle: number, address: string, settled: boolean, credit: number): Promise<void> {
    this.socket.write(
      encodeFrame(0, 0, P.attach, [
        str(`r${handle}-${Math.random()}`),
        uint(handle),
        bool(true),
        ubyte(settled ? 1 : 0),
        ubyte(0),
        described(P.source, list([str(address)])),
        described(P.target, list([])),
      ]),
    );
    await this.next((f) => f.code === P.attach);
    this.flow(handle, 0, credit);
  }

  /** Grants `credit` from `deliveryCount` on a receiving link. */
  flow(handle: number, deliveryCount: number, credit: number): void {
    this.socket.write(
      encodeFrame(0, 0, P.flow, [
        uint(0),
        uint(0x7fffffff),
        uint(this.nextOutgoingId),
        uint(0x7fffffff),
        uint(handle),
        uint(deliveryCount % U32),
        uint(credit),
      ]),
    );
  }

  /** Accepts (and settles) deliveries first..last. */
  accept(first: number, last: number): void {
    this.socket.write(ACCEPT_TEMPLATE(first, last));
  }

  private push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let off = 0;
    for (;;) {
      if (this.header > 0) {
        if (buf.length - off < 8) break;
        off += 8;
        this.header--;
        continue;
      }
      if (buf.length - off < 8) break;
      const size = buf.readUInt32BE(off);
      if (buf.length - off < size) break;
      this.frame(buf, off, size);
      off += size;
    }
    if (off < buf.length) {
      buf = buf.subarray(off);
      this.pending = Buffer.from(buf);
    }
  }

  private frame(buf: Buffer, off: number, size: number): void {
    if (size === 8) return;
    const at = off + buf[off + 4]! * 4;
    if (buf[at] === 0x00 && buf[at + 1] === 0x53 && buf[at + 2] === P.transfer && this.waiters.length === 0) {
      // list8/list32, then handle and delivery-id
      let p = at + 3;
      const c = buf[p]!;
      p += c === 0xc0 ? 3 : c === 0xd0 ? 9 : 1;
      const [handle, p2] = readUint(buf, p);
      const [id, p3] = readUint(buf, p2);
      // tag (vbin8), message-format, settled
      let p4 = p3 + 2 + buf[p3 + 1]!;
      p4 = skipUint(buf, p4);
      const settled = buf[p4] === 0x41 || (buf[p4] === 0x56 && buf[p4 + 1] === 1);
      this.onTransfer(handle, id, settled);
      return;
    }
    const f = decodeFrame(buf.subarray(off, off + size));
    const i = this.waiters.findIndex((w) => w.pred(f));
    if (i >= 0) {
      this.waiters.splice(i, 1)[0]!.resolve(f);
      return;
    }
    if (f.code === P.flow && f.fields[4] !== undefined && f.fields[4].type !== "null") {
      const h = numberOf(f.fields[4])!;
      if (!this.credit.has(h)) return;
      const dc = numberOf(f.fields[5]) ?? 0;
      const lc = numberOf(f.fields[6]) ?? 0;
      this.credit.set(h, Math.max(0, dc + lc - this.sentCount.get(h)!));
      this.onCredit();
    } else if (f.code === P.disposition) {
      const first = numberOf(f.fields[1])!;
      this.onDisposition(first, numberOf(f.fields[2]) ?? first);
    } else if (f.code === P.detach || f.code === P.end || f.code === P.close) {
      process.stderr.write(
        `bench: broker sent ${f.code} ${JSON.stringify(f.fields, (_k, v) => (typeof v === "bigint" ? String(v) : v))}\n`,
      );
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function readUint(buf: Buffer, p: number): [number, number] {
  const c = buf[p]!;
  if (c === 0x43) return [0, p + 1];
  if (c === 0x52) return [buf[p + 1]!, p + 2];
  return [buf.readUInt32BE(p + 1), p + 5];
}

function skipUint(buf: Buffer, p: number): number {
  return readUint(buf, p)[1];
}

function ACCEPT_TEMPLATE(first: number, last: number): Buffer {
  return encodeFrame(0, 0, P.disposition, [
    bool(true),
    uint(first),
    uint(last),
    bool(true),
    described(P.accepted, list([])),
  ]);
}

/** The message: one data section of `body`. */
export function messageBytes(body: Buffer): Buffer {
  const w = new Writer();
  w.value(described(P.data, bin(body)));
  return w.result();
}

const HEAD = 8 + 3 + 9 + 5 + 5 + 6 + 1 + 1;

/**
 * `count` transfers on `handle` in one buffer, delivery ids from `firstId`: built once per batch
 * size by the caller (`transfers`), ids patched by `patchIds`.
 */
export function transfers(handle: number, settled: boolean, message: Buffer, count: number): Buffer {
  const one = Buffer.alloc(HEAD + message.length);
  one.writeUInt32BE(one.length, 0);
  one[4] = 2;
  one[8] = 0x00;
  one[9] = 0x53;
  one[10] = P.transfer;
  one[11] = 0xd0;
  one.writeUInt32BE(HEAD - 16, 12);
  one.writeUInt32BE(5, 16);
  one[20] = 0x70;
  one.writeUInt32BE(handle, 21);
  one[25] = 0x70;
  one[30] = 0xa0;
  one[31] = 4;
  one[36] = 0x43;
  one[37] = settled ? 0x41 : 0x42;
  message.copy(one, HEAD);
  return Buffer.concat(Array.from({ length: count }, () => one));
}

/** Writes delivery ids (and the same 4-byte tags) into a `transfers` buffer. */
export function patchIds(batch: Buffer, messageLength: number, firstId: number): void {
  const stride = HEAD + messageLength;
  for (let off = 0, id = firstId; off < batch.length; off += stride, id = (id + 1) % U32) {
    batch.writeUInt32BE(id, off + 26);
    batch.writeUInt32BE(id, off + 32);
  }
}
