/**
 * Frames (§4.2.3): a resumable splitter over socket chunks, and the encoders for outgoing frames.
 * Pure: no I/O. Payloads are handed out as views into the input where a frame lies in one chunk.
 */
import {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_OVERHEAD,
  ReplyCode,
} from "./constants.js";
import { AmqpError } from "./errors.js";
import { type Method, type MethodArgs, type MethodSpec, specByName, writeMethod } from "./methods.js";
import { type BasicProperties, writeProperties } from "./properties.js";
import { Writer } from "./writer.js";

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

/**
 * Splits a byte stream into frames. `maxFrameSize` (the negotiated frame-max, whole frame) is
 * checked on the header, before the payload is buffered: larger is 501 FRAME_ERROR, as is a frame
 * whose last octet is not frame-end (§4.2.3).
 */
export class FrameDecoder {
  maxFrameSize: number;
  private pending: Buffer | undefined;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    const n = buf.length;
    while (n - off >= 7) {
      const size = buf.readUInt32BE(off + 3);
      if (size + FRAME_OVERHEAD > this.maxFrameSize) {
        throw new AmqpError(
          ReplyCode.FrameError,
          `frame of ${size + FRAME_OVERHEAD} bytes exceeds frame-max ${this.maxFrameSize}`,
        );
      }
      const total = size + FRAME_OVERHEAD;
      if (n - off < total) break;
      if (buf[off + total - 1] !== FRAME_END)
        throw new AmqpError(ReplyCode.FrameError, "frame-end octet missing");
      const type = buf[off]!;
      if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
        throw new AmqpError(ReplyCode.FrameError, `unknown frame type ${type}`);
      }
      onFrame({ type, channel: buf.readUInt16BE(off + 1), payload: buf.subarray(off + 7, off + 7 + size) });
      off += total;
    }
    if (off < n) this.pending = Buffer.from(buf.subarray(off));
  }
}

/** Writes a frame header now and patches its size once the payload is written. */
function beginFrame(w: Writer, type: number, channel: number): number {
  w.octet(type);
  w.short(channel);
  const at = w.offset;
  w.long(0);
  return at;
}

function endFrame(w: Writer, at: number): void {
  w.buf.writeUInt32BE(w.offset - at - 4, at);
  w.octet(FRAME_END);
}

export function writeMethodFrame(w: Writer, channel: number, spec: MethodSpec, args: MethodArgs): void {
  const at = beginFrame(w, FRAME_METHOD, channel);
  writeMethod(w, spec, args);
  endFrame(w, at);
}

export function encodeMethod(channel: number, name: string, args: MethodArgs = {}): Buffer {
  const w = new Writer(64);
  writeMethodFrame(w, channel, specByName(name), args);
  return w.result();
}

/** The content header frame's payload: class, weight, body size and the properties. */
export function writeHeaderFrame(w: Writer, channel: number, bodySize: number, props: BasicProperties): void {
  const at = beginFrame(w, FRAME_HEADER, channel);
  w.short(60);
  w.short(0);
  w.longlong(bodySize);
  writeProperties(w, props);
  endFrame(w, at);
}

/** Body frames, each at most frameMax bytes in all (§4.2.6.2). */
export function writeBodyFrames(w: Writer, channel: number, body: Buffer, frameMax: number): void {
  const chunk = frameMax - FRAME_OVERHEAD;
  for (let off = 0; off < body.length; off += chunk) {
    const part = body.subarray(off, Math.min(body.length, off + chunk));
    w.octet(FRAME_BODY);
    w.short(channel);
    w.long(part.length);
    w.bytes(part);
    w.octet(FRAME_END);
  }
}

/** A method with content: method frame, header frame, body frames. */
export function encodeContentMethod(
  channel: number,
  name: string,
  args: MethodArgs,
  props: BasicProperties,
  body: Buffer,
  frameMax: number,
): Buffer {
  const w = new Writer(128 + body.length);
  writeMethodFrame(w, channel, specByName(name), args);
  writeHeaderFrame(w, channel, body.length, props);
  writeBodyFrames(w, channel, body, frameMax);
  return w.result();
}

export const HEARTBEAT_FRAME = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);

export type { Method };
