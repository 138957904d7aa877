/** Hand-built WebSocket frames for the tests of src/transports/websocket/: client frames and a reader of server frames. */
import { randomBytes } from "node:crypto";

export interface ClientFrameOptions {
  /** Default true. */
  fin?: boolean;
  /** RSV1-3 as the 3 bits below FIN (0-7). Default 0. */
  rsv?: number;
  /** The masking key; null sends the frame unmasked. Default: 4 random bytes. */
  mask?: Buffer | null;
  /** Use this length form even when a shorter one would do. */
  lengthForm?: 7 | 16 | 64;
  /** Write this length instead of the payload's (for frames that lie). */
  length?: number;
  /** Write this as the high 32 bits of a 64-bit length. */
  high?: number;
}

/** A frame as a client sends it (RFC 6455 §5.2): masked unless told otherwise. */
export function clientFrame(
  opcode: number,
  payload: Buffer | string = "",
  o: ClientFrameOptions = {},
): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const n = o.length ?? data.length;
  const form = o.lengthForm ?? (o.high !== undefined ? 64 : n < 126 ? 7 : n < 65536 ? 16 : 64);
  const mask = o.mask === undefined ? randomBytes(4) : o.mask;
  const head = Buffer.alloc(2 + (form === 16 ? 2 : form === 64 ? 8 : 0) + (mask ? 4 : 0));
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  const maskBit = mask ? 0x80 : 0;
  let at = 2;
  if (form === 7) head[1] = maskBit | n;
  else if (form === 16) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(n, 2);
    at = 4;
  } else {
    head[1] = maskBit | 127;
    head.writeUInt32BE(o.high ?? Math.floor(n / 2 ** 32), 2);
    head.writeUInt32BE(n >>> 0, 6);
    at = 10;
  }
  if (!mask) return Buffer.concat([head, data]);
  mask.copy(head, at);
  const masked = Buffer.from(data);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, masked]);
}

export function closePayload(code: number, reason = ""): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Reads the whole frames at the start of `buf`; returns them and the bytes left over. */
export function readServerFrames(buf: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let i = 0;
  for (;;) {
    if (buf.length - i < 2) break;
    let n = buf[i + 1]! & 0x7f;
    let h = 2;
    if (n === 126) {
      if (buf.length - i < 4) break;
      n = buf.readUInt16BE(i + 2);
      h = 4;
    } else if (n === 127) {
      if (buf.length - i < 10) break;
      n = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
      h = 10;
    }
    const masked = (buf[i + 1]! & 0x80) !== 0;
    if (masked) h += 4;
    if (buf.length - i < h + n) break;
    frames.push({
      fin: (buf[i]! & 0x80) !== 0,
      rsv: (buf[i]! >> 4) & 7,
      opcode: buf[i]! & 0x0f,
      masked,
      payload: Buffer.from(buf.subarray(i + h, i + h + n)),
    });
    i += h + n;
  }
  return { frames, rest: buf.subarray(i) };
}
