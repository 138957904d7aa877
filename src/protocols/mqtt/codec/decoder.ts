import { decodeFrame, type FixedHeader, scanFixedHeader } from "./decode.js";
import { malformed } from "./errors.js";
import type { Packet, ProtocolVersion } from "./packets.js";

export interface MqttDecoderOptions {
  /** Largest whole packet (fixed header included) accepted; larger ones fail with 0x95 before buffering. */
  maxPacketSize: number;
}

/**
 * Resumable server-side parser. push() takes socket chunks as they come: a packet may be split at any
 * byte, and one chunk may hold many packets. Packets inside one chunk are decoded in place (payloads are
 * views of the chunk; Node never reuses socket chunks); only a packet straddling chunks is copied, once,
 * when its last byte arrives. After a throw the connection is to be closed: the state is not recoverable.
 */
const NO_PARTS: Buffer[] = [];
/**
 * Scratch space for scanFixedHeader, shared by every decoder (one object less per connection): it is
 * read only before a packet is handed to onPacket, so a decoder pushed to from inside onPacket cannot
 * disturb another one's reading.
 */
const HEADER: FixedHeader = { headerLength: 0, remainingLength: 0 };

export class MqttDecoder {
  /** Set by the connection after CONNECT; also set here on decoding CONNECT, for the rest of the chunk. */
  version: ProtocolVersion = 4;
  private readonly maxPacketSize: number;
  /** Bytes of an incomplete packet, kept as received (the shared empty array while there are none). */
  private parts: Buffer[] = NO_PARTS;
  private partsLength = 0;
  /** Total length of the incomplete packet, or -1 while its fixed header is incomplete. */
  private need = -1;

  constructor(opts: MqttDecoderOptions) {
    this.maxPacketSize = opts.maxPacketSize;
  }

  /** Bytes held for an incomplete packet (for memory accounting and tests). */
  get buffered(): number {
    return this.partsLength;
  }

  push(chunk: Buffer, onPacket: (p: Packet) => void): void {
    if (this.partsLength > 0) {
      const rest = this.completePending(chunk, onPacket);
      if (rest === undefined) return;
      chunk = rest;
    }
    this.parseChunk(chunk, onPacket);
  }

  /** Decodes every whole packet in `buf`; keeps a trailing partial one. */
  private parseChunk(buf: Buffer, onPacket: (p: Packet) => void): void {
    const h = HEADER;
    let off = 0;
    while (off < buf.length) {
      if (!scanFixedHeader(buf, off, this.version, this.maxPacketSize, h)) {
        this.keep(buf.subarray(off), -1);
        return;
      }
      const total = h.headerLength + h.remainingLength;
      if (buf.length - off < total) {
        this.keep(buf.subarray(off), total);
        return;
      }
      const packet = decodeFrame(buf, off, h.headerLength, off + total, this.version);
      off += total;
      this.emit(packet, onPacket);
    }
  }

  /**
   * Adds `chunk` to the pending packet. Returns the bytes of `chunk` after that packet once it is
   * complete and delivered, or undefined if it is still incomplete.
   */
  private completePending(chunk: Buffer, onPacket: (p: Packet) => void): Buffer | undefined {
    this.parts.push(chunk); // never NO_PARTS here: partsLength > 0 means keep() set parts
    this.partsLength += chunk.length;
    if (this.need < 0) {
      // Header still incomplete: at most 4 bytes were pending, so copying 5 to look at it is cheap.
      const head = Buffer.concat(this.parts, Math.min(this.partsLength, 5));
      if (!scanFixedHeader(head, 0, this.version, this.maxPacketSize, HEADER)) {
        if (this.partsLength >= 5) throw malformed("remaining length is longer than 4 bytes");
        return undefined;
      }
      this.need = HEADER.headerLength + HEADER.remainingLength;
    }
    if (this.partsLength < this.need) return undefined;
    // The one copy: exactly this packet's bytes (concat truncates to `need`).
    const whole = Buffer.concat(this.parts, this.need);
    const rest = chunk.subarray(chunk.length - (this.partsLength - this.need));
    this.parts = NO_PARTS;
    this.partsLength = 0;
    this.need = -1;
    const h = HEADER;
    // Re-scan: the header was possibly scanned from a temporary copy above.
    scanFixedHeader(whole, 0, this.version, this.maxPacketSize, h);
    this.emit(decodeFrame(whole, 0, h.headerLength, whole.length, this.version), onPacket);
    return rest;
  }

  private keep(bytes: Buffer, need: number): void {
    this.parts = [bytes];
    this.partsLength = bytes.length;
    this.need = need;
  }

  private emit(packet: Packet, onPacket: (p: Packet) => void): void {
    if (packet.cmd === "connect") this.version = packet.protocolVersion;
    onPacket(packet);
  }
}
