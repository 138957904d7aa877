/**
 * The hot outgoing path: basic.deliver / basic.get-ok / basic.return with their content, written in
 * one buffer sized up front. The properties are encoded by the caller once per message and shared by
 * every delivery of it (DESIGN.md: encode once per message, per-subscriber fields apart).
 */
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_METHOD, FRAME_OVERHEAD } from "./constants.js";
import { type BasicProperties, writeProperties } from "./properties.js";
import { Writer } from "./writer.js";

export function encodeProperties(p: BasicProperties): Buffer {
  const w = new Writer(64);
  writeProperties(w, p);
  return Buffer.from(w.result());
}

export interface ContentMethod {
  /** 60 basic.deliver, 71 basic.get-ok, 50 basic.return. */
  methodId: 60 | 71 | 50;
  consumerTag?: string;
  deliveryTag?: number;
  redelivered?: boolean;
  exchange: string;
  routingKey: string;
  messageCount?: number;
  replyCode?: number;
  replyText?: string;
}

function strLen(s: string): number {
  return Math.min(255, Buffer.byteLength(s));
}

export function encodeContent(
  channel: number,
  m: ContentMethod,
  props: Buffer,
  body: Buffer,
  frameMax: number,
): Buffer {
  const ex = strLen(m.exchange);
  const rk = strLen(m.routingKey);
  let args: number;
  if (m.methodId === 60) args = 1 + strLen(m.consumerTag ?? "") + 8 + 1 + 1 + ex + 1 + rk;
  else if (m.methodId === 71) args = 8 + 1 + 1 + ex + 1 + rk + 4;
  else args = 2 + 1 + strLen(m.replyText ?? "") + 1 + ex + 1 + rk;
  const methodPayload = 4 + args;
  const headerPayload = 12 + props.length;
  const chunk = frameMax - FRAME_OVERHEAD;
  const bodyFrames = body.length === 0 ? 0 : Math.ceil(body.length / chunk);
  const total =
    FRAME_OVERHEAD * 2 + methodPayload + headerPayload + bodyFrames * FRAME_OVERHEAD + body.length;
  const b = Buffer.allocUnsafe(total);
  let o = 0;
  b[o++] = FRAME_METHOD;
  b.writeUInt16BE(channel, o);
  b.writeUInt32BE(methodPayload, o + 2);
  b.writeUInt16BE(60, o + 6);
  b.writeUInt16BE(m.methodId, o + 8);
  o += 10;
  const str = (s: string, n: number): void => {
    b[o++] = n;
    b.write(s, o, n, "utf8");
    o += n;
  };
  const u64 = (v: number): void => {
    b.writeUInt32BE(Math.floor(v / 0x1_0000_0000) >>> 0, o);
    b.writeUInt32BE(v >>> 0, o + 4);
    o += 8;
  };
  if (m.methodId === 60) {
    str(m.consumerTag ?? "", strLen(m.consumerTag ?? ""));
    u64(m.deliveryTag ?? 0);
    b[o++] = m.redelivered ? 1 : 0;
    str(m.exchange, ex);
    str(m.routingKey, rk);
  } else if (m.methodId === 71) {
    u64(m.deliveryTag ?? 0);
    b[o++] = m.redelivered ? 1 : 0;
    str(m.exchange, ex);
    str(m.routingKey, rk);
    b.writeUInt32BE(m.messageCount ?? 0, o);
    o += 4;
  } else {
    b.writeUInt16BE(m.replyCode ?? 0, o);
    o += 2;
    str(m.replyText ?? "", strLen(m.replyText ?? ""));
    str(m.exchange, ex);
    str(m.routingKey, rk);
  }
  b[o++] = FRAME_END;
  b[o++] = FRAME_HEADER;
  b.writeUInt16BE(channel, o);
  b.writeUInt32BE(headerPayload, o + 2);
  b.writeUInt16BE(60, o + 6);
  b.writeUInt16BE(0, o + 8);
  o += 10;
  u64(body.length);
  props.copy(b, o);
  o += props.length;
  b[o++] = FRAME_END;
  for (let off = 0; off < body.length; off += chunk) {
    const n = Math.min(chunk, body.length - off);
    b[o++] = FRAME_BODY;
    b.writeUInt16BE(channel, o);
    b.writeUInt32BE(n, o + 2);
    o += 6;
    body.copy(b, o, off, off + n);
    o += n;
    b[o++] = FRAME_END;
  }
  return b;
}
