/**
 * Hand-built CoAP messages for the load generator: fixed-layout requests written straight into
 * buffers (no codec in the measuring loop beyond a header read).
 */
import { createSocket, type Socket } from "node:dgram";

const OBSERVE = 6;
const URI_PATH = 11;

/** A request: header, token (4 bytes), Observe (optional), Uri-Path segments, payload. */
export function request(
  type: 0 | 1,
  code: number,
  mid: number,
  token: number,
  path: readonly string[],
  observe?: number,
  payload?: Buffer,
): Buffer {
  const parts: number[] = [0x40 | (type << 4) | 4, code, (mid >> 8) & 0xff, mid & 0xff];
  parts.push((token >>> 24) & 0xff, (token >>> 16) & 0xff, (token >>> 8) & 0xff, token & 0xff);
  let prev = 0;
  if (observe !== undefined) {
    parts.push((OBSERVE << 4) | (observe === 0 ? 0 : 1));
    if (observe !== 0) parts.push(observe);
    prev = OBSERVE;
  }
  for (const seg of path) {
    const b = Buffer.from(seg);
    const delta = URI_PATH - prev;
    if (b.length < 13) parts.push((delta << 4) | b.length);
    else parts.push((delta << 4) | 13, b.length - 13);
    parts.push(...b);
    prev = URI_PATH;
  }
  const head = Buffer.from(parts);
  return payload && payload.length > 0 ? Buffer.concat([head, Buffer.from([0xff]), payload]) : head;
}

export const emptyAck = (mid: number): Buffer => Buffer.from([0x60, 0, (mid >> 8) & 0xff, mid & 0xff]);
export const emptyRst = (mid: number): Buffer => Buffer.from([0x70, 0, (mid >> 8) & 0xff, mid & 0xff]);

export interface Header {
  type: number;
  code: number;
  mid: number;
  token: number;
}

export function header(d: Buffer): Header {
  const tkl = d[0]! & 0x0f;
  return {
    type: (d[0]! >> 4) & 3,
    code: d[1]!,
    mid: (d[2]! << 8) | d[3]!,
    token: tkl === 4 ? d.readUInt32BE(4) : -1,
  };
}

export async function openSocket(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  try {
    s.setRecvBufferSize(4 << 20);
  } catch {
    // capped by the OS: fine
  }
  return s;
}

/** CON Empty message: true when an RST comes back within `ms`. */
export async function ping(port: number, ms: number): Promise<boolean> {
  const s = await openSocket();
  try {
    return await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      s.on("message", (d) => {
        if (header(d).type === 3) {
          clearTimeout(t);
          resolve(true);
        }
      });
      s.send(Buffer.from([0x40, 0, 0x12, 0x34]), port, "127.0.0.1");
    });
  } finally {
    s.close();
  }
}
