/**
 * Splits a TCP byte stream into MQTT packets by their fixed header only (type byte + remaining length),
 * across chunk boundaries. Two modes:
 * - count mode (wantBody false): the callback gets the header; the body may be incomplete or absent and
 *   must not be read. Bodies are skipped without copying, so 64 KiB payloads cost nothing.
 * - body mode (wantBody true): the callback gets a complete body in `buf[start, end)`. A packet split
 *   across chunks is reassembled (one copy, rare with small packets and 64 KiB reads).
 */

/** `end` is the body end: in count mode it may lie beyond `buf.length`. */
export type OnPacket = (byte1: number, buf: Buffer, start: number, end: number) => void;

export class FrameReader {
  /** Reassigned freely (set-up handshake, then the scenario's counter). */
  onPacket: OnPacket;
  private readonly wantBody: boolean;
  /** Bytes of an incomplete packet (body mode) or an incomplete fixed header (count mode). */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Total bytes the pending packet needs, 0 while its header is incomplete. */
  private need = 0;
  /** Count mode: body bytes still to skip from the previous chunk. */
  private skip = 0;

  constructor(onPacket: OnPacket, wantBody: boolean) {
    this.onPacket = onPacket;
    this.wantBody = wantBody;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.skip > 0) {
      if (buf.length <= this.skip) {
        this.skip -= buf.length;
        return;
      }
      buf = buf.subarray(this.skip);
      this.skip = 0;
    }
    if (this.pendingLen > 0) {
      this.pending.push(buf);
      this.pendingLen += buf.length;
      if (this.need > 0 && this.pendingLen < this.need) return;
      buf = Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
      this.need = 0;
    }
    this.scan(buf);
  }

  private scan(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      // Remaining length: 1..4 bytes, 7 bits each (§2.2.3).
      let len = 0;
      let mul = 1;
      let j = i + 1;
      let complete = false;
      while (j < n && j < i + 5) {
        const b = buf[j++] as number;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (j >= i + 5) throw new Error("malformed remaining length");
        this.keep(buf, i, 0);
        return;
      }
      const end = j + len;
      if (end > n && this.wantBody) {
        this.keep(buf, i, end - i);
        return;
      }
      this.onPacket(buf[i] as number, buf, j, end);
      if (end > n) {
        this.skip = end - n;
        return;
      }
      i = end;
    }
  }

  private keep(buf: Buffer, from: number, need: number): void {
    const rest = Buffer.from(buf.subarray(from)); // copy: the chunk may be reused by the caller
    this.pending = [rest];
    this.pendingLen = rest.length;
    this.need = need;
  }
}
