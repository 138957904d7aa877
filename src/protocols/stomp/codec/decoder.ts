/**
 * Resumable STOMP frame decoder: bytes in any split -> frames. Pure (no I/O).
 *
 * - End-of-line bytes between frames are heart-beats and are skipped (STOMP 1.2 §"Heart-beating").
 * - Lines end with LF or CR LF (1.2 §"Augmented BNF"; accepted for every version, as brokers do).
 * - With `content-length` the body is exactly that many bytes (zero bytes included) and must be
 *   followed by NUL; without it the body ends at the first NUL (1.2 §"Body").
 * - Every limit is checked before the bytes are kept: a frame larger than `maxFrameSize`, more than
 *   `maxHeaders` headers or a header line longer than `maxHeaderLength` is refused at once, so a
 *   client cannot make the broker buffer more than one frame's worth.
 * - Header values are unescaped per version; CONNECT/STOMP frames never are (1.2 §"Value Encoding").
 */
import { StompCodecError } from "./errors.js";
import { unescapeHeader } from "./escape.js";
import { escapesHeaders, type Header, type StompFrame, type StompVersion } from "./frame.js";

export interface DecoderLimits {
  /** Largest frame, header lines and body together, in bytes. */
  maxFrameSize: number;
  maxHeaders: number;
  /** Longest header line in bytes. */
  maxHeaderLength: number;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const EMPTY = Buffer.alloc(0);

interface Head {
  command: string;
  headers: Header[];
  /** Offset of the body in buf. */
  bodyStart: number;
  contentLength: number | undefined;
}

export class StompDecoder {
  /** Set by the connection once the version is negotiated: it decides header unescaping. */
  version: StompVersion = "1.0";
  private buf: Buffer = EMPTY;
  private head: Head | undefined;
  /** Where the NUL search resumes (body without content-length), relative to buf. */
  private scanFrom = 0;

  constructor(private readonly limits: DecoderLimits) {}

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Feeds bytes; calls onFrame for each complete frame, in order. Throws StompCodecError on a bad
   * frame (the decoder is then unusable: the connection ends).
   */
  push(chunk: Buffer, onFrame: (frame: StompFrame) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (!this.head) {
        const skipped = skipEols(this.buf);
        if (skipped > 0) this.buf = this.buf.subarray(skipped);
        if (this.buf.length === 0) return;
        const head = this.parseHead();
        if (!head) return;
        this.head = head;
        this.scanFrom = head.bodyStart;
      }
      const frame = this.takeBody(this.head);
      if (!frame) return;
      this.head = undefined;
      onFrame(frame);
    }
  }

  /** The command and header lines, or undefined when they are not complete yet. */
  private parseHead(): Head | undefined {
    const buf = this.buf;
    const { maxFrameSize, maxHeaders, maxHeaderLength } = this.limits;
    let p = 0;
    let command: string | undefined;
    const headers: Header[] = [];
    let escaped = false;
    for (;;) {
      const lf = buf.indexOf(LF, p);
      if (lf === -1) {
        if (buf.length > maxFrameSize) throw tooLarge(maxFrameSize);
        if (buf.length - p > maxHeaderLength) throw lineTooLong(maxHeaderLength);
        return undefined;
      }
      if (lf - p > maxHeaderLength) throw lineTooLong(maxHeaderLength);
      const end = lf > p && buf[lf - 1] === CR ? lf - 1 : lf;
      const line = buf.toString("utf8", p, end);
      p = lf + 1;
      if (p > maxFrameSize) throw tooLarge(maxFrameSize);
      if (command === undefined) {
        command = line;
        if (!isCommand(command)) {
          throw new StompCodecError("bad-command", `'${printable(command)}' is not a STOMP command`);
        }
        escaped = escapesHeaders(this.version, command);
        continue;
      }
      if (line.length === 0) break;
      if (headers.length >= maxHeaders) {
        throw new StompCodecError("too-many-headers", `more than ${maxHeaders} headers in one frame`);
      }
      const colon = line.indexOf(":");
      if (colon <= 0) {
        throw new StompCodecError(
          "bad-header",
          colon === 0 ? "a header with an empty name" : `header line without a colon: '${printable(line)}'`,
        );
      }
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1);
      headers.push(
        escaped ? [unescapeHeader(name, this.version), unescapeHeader(value, this.version)] : [name, value],
      );
    }
    let contentLength: number | undefined;
    for (const [name, value] of headers) {
      if (name !== "content-length") continue;
      contentLength = parseLength(value);
      if (p + contentLength + 1 > maxFrameSize) throw tooLarge(maxFrameSize);
      break;
    }
    return { command, headers, bodyStart: p, contentLength };
  }

  /** The finished frame when its body and NUL have arrived; consumes it from buf. */
  private takeBody(head: Head): StompFrame | undefined {
    const buf = this.buf;
    let bodyEnd: number;
    if (head.contentLength !== undefined) {
      bodyEnd = head.bodyStart + head.contentLength;
      if (buf.length <= bodyEnd) return undefined;
      if (buf[bodyEnd] !== NUL) {
        throw new StompCodecError(
          "content-length-mismatch",
          `content-length ${head.contentLength} disagrees with the body: no NUL after ${head.contentLength} bytes`,
        );
      }
    } else {
      bodyEnd = buf.indexOf(NUL, this.scanFrom);
      if (bodyEnd === -1) {
        if (buf.length + 1 > this.limits.maxFrameSize) throw tooLarge(this.limits.maxFrameSize);
        this.scanFrom = buf.length;
        return undefined;
      }
      if (bodyEnd + 1 > this.limits.maxFrameSize) throw tooLarge(this.limits.maxFrameSize);
    }
    const frame: StompFrame = {
      command: head.command,
      headers: head.headers,
      body: buf.subarray(head.bodyStart, bodyEnd),
    };
    this.buf = bodyEnd + 1 === buf.length ? EMPTY : buf.subarray(bodyEnd + 1);
    return frame;
  }
}

/** How many heart-beat EOLs (LF or CR LF) start buf; a lone trailing CR waits for its LF. */
function skipEols(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const c = buf[i];
    if (c === LF) i++;
    else if (c === CR && buf[i + 1] === LF) i += 2;
    else break;
  }
  return i;
}

function isCommand(s: string): boolean {
  if (s.length === 0 || s.length > 32) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x41 || c > 0x5a) return false; // A-Z only
  }
  return true;
}

function parseLength(value: string): number {
  if (value.length === 0 || value.length > 15) {
    throw new StompCodecError(
      "bad-content-length",
      `content-length '${printable(value)}' is not a byte count`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      throw new StompCodecError(
        "bad-content-length",
        `content-length '${printable(value)}' is not a byte count`,
      );
    }
  }
  return Number(value);
}

function tooLarge(max: number): StompCodecError {
  return new StompCodecError("frame-too-large", `frame larger than the limit of ${max} bytes`);
}

function lineTooLong(max: number): StompCodecError {
  return new StompCodecError("header-too-long", `header line longer than the limit of ${max} bytes`);
}

/** Quotes client text in an error message without control characters, cut short. */
function printable(s: string): string {
  const cut = s.length > 64 ? `${s.slice(0, 64)}...` : s;
  return cut.replace(/[\x00-\x1f\x7f]/g, "?");
}
