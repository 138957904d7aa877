/**
 * A trivial stand-in for a broker, to show the generator's ceiling: it answers CONNECT, SUBSCRIBE,
 * PINGREQ and the QoS 1/2 handshakes with canned bytes, and forwards every PUBLISH's bytes unchanged to
 * the sockets whose filter equals the topic (or is a prefix ending in `+` or `#`). No sessions, no
 * validation, no re-encoding: far less work than any real broker. Usage: reflector.js PORT
 */

import net from "node:net";
import { FrameReader } from "./frame-reader.js";

interface Conn {
  sock: net.Socket;
  filters: string[];
  /** Last topic published on this connection and where it went (publishers use one topic). */
  lastTopic: Buffer | null;
  lastDests: Conn[];
  lastGen: number;
  /** Byte ranges to forward after this read, per destination. */
  out: Buffer[];
  /** Canned replies for this read. */
  replies: number[];
}

const exact = new Map<string, Conn[]>();
const prefixes: Array<{ prefix: string; conn: Conn }> = [];
let generation = 0;
const touched = new Set<Conn>();

function route(topic: string): Conn[] {
  const dests = [...(exact.get(topic) ?? [])];
  for (const p of prefixes) if (topic.startsWith(p.prefix)) dests.push(p.conn);
  return dests;
}

function subscribe(c: Conn, filter: string): void {
  c.filters.push(filter);
  if (filter.endsWith("+") || filter.endsWith("#")) prefixes.push({ prefix: filter.slice(0, -1), conn: c });
  else exact.set(filter, [...(exact.get(filter) ?? []), c]);
  generation++;
}

function forget(c: Conn): void {
  for (const f of c.filters) {
    const list = exact.get(f);
    if (list)
      exact.set(
        f,
        list.filter((x) => x !== c),
      );
  }
  for (let i = prefixes.length - 1; i >= 0; i--) if (prefixes[i]?.conn === c) prefixes.splice(i, 1);
  generation++;
}

function onPacket(c: Conn, byte1: number, buf: Buffer, start: number, end: number): void {
  const type = byte1 >> 4;
  const id = ((buf[start] as number) << 8) | (buf[start + 1] as number);
  switch (type) {
    case 3: {
      const tlen = id; // PUBLISH: the topic length sits where acks have their id
      const t0 = start + 2;
      let dests = c.lastDests;
      const last = c.lastTopic;
      if (
        c.lastGen !== generation ||
        last === null ||
        last.length !== tlen ||
        buf.compare(last, 0, tlen, t0, t0 + tlen) !== 0
      ) {
        const topic = buf.toString("utf8", t0, t0 + tlen);
        dests = route(topic);
        c.lastTopic = Buffer.from(buf.subarray(t0, t0 + tlen));
        c.lastDests = dests;
        c.lastGen = generation;
      }
      const packetStart = start - (end - start < 128 ? 2 : end - start < 16384 ? 3 : 4);
      const packet = buf.subarray(packetStart, end);
      for (const d of dests) {
        d.out.push(packet);
        touched.add(d);
      }
      const qos = (byte1 >> 1) & 3;
      if (qos > 0) {
        const pid = ((buf[t0 + tlen] as number) << 8) | (buf[t0 + tlen + 1] as number);
        c.replies.push(qos === 1 ? 0x40 : 0x50, 2, pid >> 8, pid & 0xff);
        touched.add(c);
      }
      return;
    }
    case 1: // CONNECT
      c.replies.push(0x20, 2, 0, 0);
      break;
    case 8: {
      // SUBSCRIBE: one filter
      const flen = ((buf[start + 2] as number) << 8) | (buf[start + 3] as number);
      subscribe(c, buf.toString("utf8", start + 4, start + 4 + flen));
      c.replies.push(0x90, 3, id >> 8, id & 0xff, buf[start + 4 + flen] as number);
      break;
    }
    case 5: // PUBREC from a subscriber
      c.replies.push(0x62, 2, id >> 8, id & 0xff);
      break;
    case 6: // PUBREL from a publisher
      c.replies.push(0x70, 2, id >> 8, id & 0xff);
      break;
    case 12: // PINGREQ
      c.replies.push(0xd0, 0);
      break;
    case 14: // DISCONNECT
      c.sock.end();
      return;
    default: // PUBACK, PUBCOMP: nothing to do
      return;
  }
  touched.add(c);
}

function flush(): void {
  for (const d of touched) {
    if (d.sock.destroyed) continue;
    if (d.replies.length > 0) {
      d.sock.write(Buffer.from(d.replies));
      d.replies = [];
    }
    if (d.out.length === 1) d.sock.write(d.out[0] as Buffer);
    else if (d.out.length > 1) d.sock.write(Buffer.concat(d.out));
    d.out = [];
  }
  touched.clear();
}

const port = Number(process.argv[2] ?? 1883);
const server = net.createServer({ noDelay: true }, (sock) => {
  const c: Conn = { sock, filters: [], lastTopic: null, lastDests: [], lastGen: -1, out: [], replies: [] };
  const reader = new FrameReader((b, buf, s, e) => onPacket(c, b, buf, s, e), true);
  sock.on("data", (chunk: Buffer) => {
    reader.push(chunk);
    flush();
  });
  sock.on("error", () => {});
  sock.on("close", () => forget(c));
});
server.listen(port, "127.0.0.1", () => process.stderr.write(`reflector listening on 127.0.0.1:${port}\n`));
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
