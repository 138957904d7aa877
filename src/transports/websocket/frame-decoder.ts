/**
 * An incremental decoder of the frames a WebSocket client sends (RFC 6455 §5), fed socket chunks of
 * any size and split.
 *
 * Why not `ws`'s Receiver: in the WAMP PubSub 1 → 1 benchmark (bench/WAMP-RESULTS.md,
 * bench/wamp/run.ts) about 14% of the router's CPU went to that receive path (a Writable stream per
 * connection, a list of chunks consumed piece by piece, a Buffer per header read, an event per
 * message). Here the common case costs almost nothing: a whole frame inside one chunk is unmasked
 * in place (not at all with an all-zero mask) and delivered as a view of the chunk, with no copy and
 * no allocation. Only a frame split over chunks is copied, into a buffer of its exact length, and
 * only a header split over chunks keeps a few bytes; an idle connection holds nothing.
 *
 * Checks, each ending the connection with the close code in brackets: client frames are masked,
 * RSV1-3 are 0 (no extension is ever negotiated) and the opcode is known [1002]; control frames are
 * final with at most 125 bytes [1002]; continuation frames continue a fragmented message and data
 * frames do not interrupt one [1002]; a 64-bit length has its top bit clear [1002]; a message is
 * no larger than the endpoint's limit, checked from the header before anything is buffered [1009];
 * a text message is valid UTF-8 [1007].
 */
import { isUtf8 } from "node:buffer";
import { CloseCode, Opcode } from "./frames.js";

export interface FrameSink {
  /**
   * A whole data message. `payload` is often a view of the socket's chunk: it stays valid (the
   * chunk is not reused), but keeping it keeps the chunk.
   */
  message(payload: Buffer, binary: boolean): void;
  /** A control frame (close, ping or pong), unmasked; at most 125 bytes. */
  control(opcode: number, payload: Buffer): void;
  /** The client broke the protocol; `code` is the close code to send. Nothing more is decoded. */
  fail(code: number, reason: string): void;
}

/** The longest frame header: 2 bytes, a 64-bit length, a 4-byte mask. */
const MAX_HEADER = 14;

export class FrameDecoder {
  private stopped = false;
  // The frame whose header was read last.
  private fin = false;
  private opcode = 0;
  private length = 0;
  /** The masking key as a big-endian 32-bit number; 0 means XOR changes nothing. */
  private mask = 0;
  /** A header split over chunks: its first bytes. */
  private head: Buffer | undefined;
  private headLength = 0;
  /** A payload split over chunks: its own buffer, filled up to `filled`. */
  private payload: Buffer | undefined;
  private filled = 0;
  /** The fragments of a fragmented message, unmasked; undefined between messages. */
  private fragments: Buffer[] | undefined;
  private fragmentsLength = 0;
  private fragmentsBinary = false;

  constructor(
    /** The largest message accepted, in bytes (a fragmented one counted whole). */
    private readonly maxPayload: number,
    private readonly sink: FrameSink,
  ) {}

  /** Decodes nothing more (the connection closed or a close frame arrived) and lets go of partial state. */
  stop(): void {
    this.stopped = true;
    this.head = undefined;
    this.payload = undefined;
    this.fragments = undefined;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    const n = chunk.length;
    let i = 0;
    if (this.payload !== undefined) {
      i = this.fillPayload(chunk);
      if (i < 0) return;
    } else if (this.head !== undefined) {
      i = this.completeHeader(chunk);
      if (i < 0) return;
    }
    while (i < n && !this.stopped) {
      const h = this.header(chunk, i, n - i);
      if (h <= 0) {
        if (h === 0) {
          this.head = Buffer.allocUnsafe(MAX_HEADER);
          this.headLength = chunk.copy(this.head, 0, i, n);
        }
        return;
      }
      i = this.payloadFrom(chunk, i + h);
      if (i < 0) return;
    }
  }

  /**
   * The payload of the frame whose header was just read starts at `start`: delivered as a view of
   * the chunk when it is all there, else copied into a buffer of its own to be filled by the next
   * chunks. Returns where the next frame starts, or -1 when the chunk is used up.
   */
  private payloadFrom(chunk: Buffer, start: number): number {
    const end = start + this.length;
    if (end <= chunk.length) {
      if (this.mask !== 0) unmask(chunk, start, end, this.mask);
      this.frame(chunk.subarray(start, end));
      return end;
    }
    const payload = Buffer.allocUnsafe(this.length);
    this.filled = chunk.copy(payload, 0, start);
    this.payload = payload;
    return -1;
  }

  /** Continues a split payload; returns where the next frame starts, or -1 when the chunk is used up. */
  private fillPayload(chunk: Buffer): number {
    const payload = this.payload!;
    const taken = chunk.copy(payload, this.filled, 0, Math.min(chunk.length, this.length - this.filled));
    this.filled += taken;
    if (this.filled < this.length) return -1;
    this.payload = undefined;
    if (this.mask !== 0) unmask(payload, 0, payload.length, this.mask);
    this.frame(payload);
    return taken;
  }

  /** Continues a split header; returns where its payload starts in `chunk`, or -1. */
  private completeHeader(chunk: Buffer): number {
    const head = this.head!;
    const had = this.headLength;
    const added = chunk.copy(head, had, 0, Math.min(chunk.length, MAX_HEADER - had));
    const h = this.header(head, 0, had + added);
    if (h < 0) return -1;
    if (h === 0) {
      // Fewer than MAX_HEADER bytes in all, so the whole chunk went into `head`.
      this.headLength = had + added;
      return -1;
    }
    this.head = undefined;
    return this.payloadFrom(chunk, h - had);
  }

  /**
   * Reads and checks the frame header at `at` (`avail` bytes there). Returns its length; 0 when more
   * bytes are needed; -1 when the frame broke the protocol (the sink was told).
   */
  private header(b: Buffer, at: number, avail: number): number {
    if (avail < 2) return 0;
    const b0 = b[at]!;
    const b1 = b[at + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    let length = b1 & 0x7f;
    if ((b0 & 0x70) !== 0)
      return this.error(CloseCode.PROTOCOL_ERROR, "RSV bits set, no extension negotiated");
    if ((b1 & 0x80) === 0) return this.error(CloseCode.PROTOCOL_ERROR, "client frame not masked");
    if (opcode >= Opcode.CLOSE) {
      if (opcode > Opcode.PONG) return this.error(CloseCode.PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      if (!fin) return this.error(CloseCode.PROTOCOL_ERROR, "fragmented control frame");
      if (length > 125) return this.error(CloseCode.PROTOCOL_ERROR, "control frame over 125 bytes");
    } else if (opcode === Opcode.CONTINUATION) {
      if (this.fragments === undefined) return this.error(CloseCode.PROTOCOL_ERROR, "nothing to continue");
    } else if (opcode <= Opcode.BINARY) {
      if (this.fragments !== undefined)
        return this.error(CloseCode.PROTOCOL_ERROR, "data frame inside a fragmented message");
    } else {
      return this.error(CloseCode.PROTOCOL_ERROR, `unknown opcode ${opcode}`);
    }
    let h = 6;
    if (length === 126) {
      h = 8;
      if (avail < h) return 0;
      length = b.readUInt16BE(at + 2);
    } else if (length === 127) {
      h = 14;
      if (avail < h) return 0;
      const high = b.readUInt32BE(at + 2);
      if (high > 0x7fffffff)
        return this.error(CloseCode.PROTOCOL_ERROR, "64-bit length with the top bit set");
      length = high * 2 ** 32 + b.readUInt32BE(at + 6);
    }
    if (avail < h) return 0;
    if (opcode < Opcode.CLOSE && this.fragmentsLength + length > this.maxPayload)
      return this.error(CloseCode.MESSAGE_TOO_BIG, "message too big");
    this.fin = fin;
    this.opcode = opcode;
    this.length = length;
    this.mask = b.readUInt32BE(at + h - 4);
    return h;
  }

  /** A whole frame's unmasked payload. */
  private frame(payload: Buffer): void {
    const opcode = this.opcode;
    if (opcode >= Opcode.CLOSE) return this.sink.control(opcode, payload);
    let message = payload;
    let binary = opcode === Opcode.BINARY;
    if (opcode === Opcode.CONTINUATION) {
      const fragments = this.fragments!;
      fragments.push(payload);
      this.fragmentsLength += payload.length;
      if (!this.fin) return;
      message = Buffer.concat(fragments, this.fragmentsLength);
      binary = this.fragmentsBinary;
      this.fragments = undefined;
      this.fragmentsLength = 0;
    } else if (!this.fin) {
      this.fragments = [payload];
      this.fragmentsLength = payload.length;
      this.fragmentsBinary = binary;
      return;
    }
    if (!binary && !isUtf8(message)) {
      this.error(CloseCode.INVALID_PAYLOAD, "text message is not valid UTF-8");
      return;
    }
    this.sink.message(message, binary);
  }

  private error(code: number, reason: string): -1 {
    this.stop();
    this.sink.fail(code, reason);
    return -1;
  }
}

/** XORs b[from, to) with the 4-byte big-endian masking key `mask` (RFC 6455 §5.3). */
function unmask(b: Buffer, from: number, to: number, mask: number): void {
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 0xff;
  const m2 = (mask >>> 8) & 0xff;
  const m3 = mask & 0xff;
  let i = from;
  for (const end = from + ((to - from) & ~3); i < end; i += 4) {
    b[i] ^= m0;
    b[i + 1] ^= m1;
    b[i + 2] ^= m2;
    b[i + 3] ^= m3;
  }
  if (i < to) b[i++] ^= m0;
  if (i < to) b[i++] ^= m1;
  if (i < to) b[i] ^= m2;
}
