/**
 * WAMP RawSocket framing (WAMP §14.5.3 "RawSocket Transport"): the 4-octet handshake with
 * serializer and maximum message length negotiation, then frames of a 4-octet header (5 reserved
 * bits, a 3-bit frame type, a 24-bit big-endian length) and the payload. Pure: bytes in, frames out.
 */

/** First octet of every handshake (WAMP §14.5.3.1). */
export const RAWSOCKET_MAGIC = 0x7f;

export const FrameType = { MESSAGE: 0, PING: 1, PONG: 2 } as const;

/** Handshake error codes, sent in the upper nibble of octet 2 (WAMP §14.5.3.1). */
export const HandshakeError = {
  SERIALIZER_UNSUPPORTED: 1,
  MAX_LENGTH_UNACCEPTABLE: 2,
  RESERVED_BITS: 3,
  MAX_CONNECTIONS: 4,
} as const;

export interface ClientHandshake {
  /** Largest message the client accepts: 2^(9+L) octets. */
  maxLength: number;
  serializerCode: number;
}

/** Parses the client's 4 handshake octets; a number is the error code to answer with. */
export function parseHandshake(b: Buffer): ClientHandshake | number {
  if (b[0] !== RAWSOCKET_MAGIC) return -1; // not RawSocket at all: close without an answer
  if (b[2] !== 0 || b[3] !== 0) return HandshakeError.RESERVED_BITS;
  return { maxLength: 2 ** (9 + (b[1]! >> 4)), serializerCode: b[1]! & 0x0f };
}

/** The exponent L with 2^(9+L) <= `maxLength`, for the router's own handshake answer. */
export function lengthExponent(maxLength: number): number {
  let l = 0;
  while (l < 15 && 2 ** (9 + l + 1) <= maxLength) l++;
  return l;
}

export function encodeHandshake(maxLength: number, serializerCode: number): Buffer {
  return Buffer.from([RAWSOCKET_MAGIC, (lengthExponent(maxLength) << 4) | serializerCode, 0, 0]);
}

export function encodeHandshakeError(code: number): Buffer {
  return Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0]);
}

/** Octets of a frame header: 5 reserved bits and the frame type, then a 24-bit length. */
export const RAWSOCKET_HEADER_LENGTH = 4;

/** Writes a frame header at `at`; returns where the payload starts. */
export function writeRawSocketHeader(b: Buffer, at: number, type: number, length: number): number {
  b[at] = type;
  b[at + 1] = (length >>> 16) & 0xff;
  b[at + 2] = (length >>> 8) & 0xff;
  b[at + 3] = length & 0xff;
  return at + RAWSOCKET_HEADER_LENGTH;
}

export function frameHeader(type: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(RAWSOCKET_HEADER_LENGTH);
  writeRawSocketHeader(h, 0, type, length);
  return h;
}

export class RawSocketError extends Error {
  override name = "RawSocketError";
}

/**
 * Resumable frame decoder: push() any chunks; complete frames come out in order. Frames longer than
 * `maxLength` (what the router announced) or with reserved bits set are errors; the check comes
 * before anything is allocated for the frame.
 */
export class RawSocketDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxLength: number) {}

  push(chunk: Buffer, onFrame: (type: number, payload: Buffer) => void): void {
    if (this.buffered === 0) {
      chunk = this.parse(chunk, onFrame);
      if (chunk.length > 0) {
        this.chunks.push(chunk);
        this.buffered = chunk.length;
      }
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < 4) return;
    const need = this.peekLength();
    if (this.buffered < 4 + need) return;
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    const rest = this.parse(all, onFrame);
    if (rest.length > 0) {
      this.chunks.push(rest);
      this.buffered = rest.length;
    }
  }

  /** The payload length in the buffered header (validating it). */
  private peekLength(): number {
    const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    return this.check(head, 0);
  }

  private check(b: Buffer, at: number): number {
    const type = b[at]!;
    if (type > FrameType.PONG) throw new RawSocketError(`frame with reserved bits or unknown type ${type}`);
    const len = (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    if (len > this.maxLength)
      throw new RawSocketError(`frame of ${len} octets exceeds the maximum ${this.maxLength}`);
    return len;
  }

  private parse(b: Buffer, onFrame: (type: number, payload: Buffer) => void): Buffer {
    let at = 0;
    while (b.length - at >= 4) {
      const len = this.check(b, at);
      if (b.length - at - 4 < len) break;
      onFrame(b[at]!, b.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    return at === 0 ? b : b.subarray(at);
  }
}
