/**
 * Hand-built AMQP 0-9-1 frames for the load generator: encoded once with the project's codec and
 * copied or patched per message, so the generator costs far less per message than either broker
 * (amqplib would be the bottleneck: it costs about as much as RabbitMQ per message).
 */
import {
  encodeMethod,
  FRAME_METHOD,
  type MethodArgs,
  specByName,
  Writer,
  writeBodyFrames,
  writeHeaderFrame,
  writeMethodFrame,
} from "../../src/protocols/amqp091/codec/index.js";
import type { BasicProperties } from "../../src/protocols/amqp091/codec/properties.js";

export const BODY_SIZE = 64;

/** One basic.publish with its header and one body frame (method + header + body). */
export function publishFrames(
  channel: number,
  exchange: string,
  routingKey: string,
  body: Buffer,
  props: BasicProperties = {},
): Buffer {
  const w = new Writer(256);
  writeMethodFrame(w, channel, specByName("basic.publish"), { exchange, routingKey });
  writeHeaderFrame(w, channel, body.length, props);
  writeBodyFrames(w, channel, body, 131_072);
  return Buffer.from(w.result());
}

/** `n` copies of `frames` in one buffer: one write publishes n messages. */
export function repeat(frames: Buffer, n: number): Buffer {
  return Buffer.concat(Array.from({ length: n }, () => frames));
}

/** basic.ack for `tag` (patched in place at ACK_TAG_OFFSET). */
export function ackFrame(channel: number, multiple = false): Buffer {
  return encodeMethod(channel, "basic.ack", { deliveryTag: 0, multiple });
}
/** type(1) channel(2) size(4) class(2) method(2): the delivery tag starts here. */
export const ACK_TAG_OFFSET = 11;

export function writeTag(buf: Buffer, offset: number, tag: number): void {
  buf.writeUInt32BE(Math.floor(tag / 0x1_0000_0000), offset);
  buf.writeUInt32BE(tag >>> 0, offset + 4);
}

export function method(channel: number, name: string, args: MethodArgs = {}): Buffer {
  return encodeMethod(channel, name, args);
}

/**
 * Splits the broker's bytes into frames by their 7-byte header only and reports method frames with
 * their class and method ids and where their arguments start; header and body frames are skipped
 * unless `onBody` wants them. Resumable across chunks.
 */
export class FrameSplitter {
  private pending: Buffer | undefined;

  constructor(
    private readonly onMethod: (classId: number, methodId: number, buf: Buffer, argsAt: number) => void,
    private readonly onBody?: (buf: Buffer, start: number, end: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    while (buf.length - off >= 7) {
      const size = buf.readUInt32BE(off + 3);
      if (buf.length - off < size + 8) break;
      const type = buf[off]!;
      if (type === FRAME_METHOD)
        this.onMethod(buf.readUInt16BE(off + 7), buf.readUInt16BE(off + 9), buf, off + 11);
      else if (type === 3 && this.onBody) this.onBody(buf, off + 7, off + 7 + size);
      off += size + 8;
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }
}
