/**
 * Notification bytes (RFC 7641 §4.2). A message going to many observers is encoded once: the
 * "tail" (the options after Observe, the payload marker and the payload, or its first block) is
 * cached on the message per block size; each observer adds only its "head" (header, token and
 * Observe option), sent together as one datagram without a copy.
 */
import { type EncodedCache, type Message, remainingExpirySeconds } from "../../core/message.js";
import { blockSize, encodeBlock } from "./codec/block.js";
import { Code, type MessageType, Opt } from "./codec/constants.js";
import { optionsSize, writeOptions } from "./codec/encode.js";
import { type CoapOption, uintBytes, uintOption } from "./codec/message.js";
import { formatOf } from "./content-format.js";

const TAIL_KEYS = ["coap/0", "coap/1", "coap/2", "coap/3", "coap/4", "coap/5", "coap/6"];

/** The options and payload that follow Observe (6), for block size 2^(szx+4); cached on the message. */
export function notificationTail(message: Message, szx: number, now: number): Buffer {
  const key = TAIL_KEYS[szx]!;
  const cached = message.encoded?.get(key);
  if (cached !== undefined) return cached;
  const tail = encodeTail(message, szx, now);
  // Not cached when the message expires: Max-Age counts down (RFC 7252 §5.10.5).
  if (message.properties.expiresAt === undefined) {
    message.encoded ??= new Map<string, Buffer>() as EncodedCache;
    message.encoded.set(key, tail);
  }
  return tail;
}

function encodeTail(message: Message, szx: number, now: number): Buffer {
  const options: CoapOption[] = [];
  const format = formatOf(message.properties);
  if (format !== undefined) options.push(uintOption(Opt.ContentFormat, format));
  const maxAge = remainingExpirySeconds(message, now);
  if (maxAge !== undefined) options.push(uintOption(Opt.MaxAge, maxAge));
  let payload = message.payload;
  const size = blockSize(szx);
  if (payload.length > size) {
    // RFC 7959 §3.4: a large notification carries its first block; the client GETs the rest.
    options.push(uintOption(Opt.Block2, encodeBlock({ num: 0, more: true, szx })));
    options.push(uintOption(Opt.Size2, payload.length));
    payload = payload.subarray(0, size);
  }
  const optLen = optionsSize(Opt.Observe, options);
  const buf = Buffer.allocUnsafe(optLen + (payload.length > 0 ? 1 + payload.length : 0));
  let pos = writeOptions(buf, 0, Opt.Observe, options);
  if (payload.length > 0) {
    buf[pos++] = 0xff;
    payload.copy(buf, pos);
  }
  return buf;
}

/**
 * Header, token, ETag (when given) and Observe option for one observer; the message id is written
 * at send time. ETag (4) precedes Observe (6), so it belongs to the head, not the shared tail: a
 * block-wise notification carries the ETag its remaining blocks are served with, as in RFC 7959
 * §3.4 (Figure 12), so the client can tell that the blocks it fetches belong to this notification.
 */
export function notificationHead(
  type: MessageType,
  token: Buffer,
  seq: number,
  code: number = Code.Content,
  etag?: Buffer,
): Buffer {
  const obs = uintBytes(seq);
  const etagLen = etag === undefined ? 0 : 1 + etag.length; // 1 <= length <= 8: no extended length
  const buf = Buffer.allocUnsafe(4 + token.length + etagLen + 1 + obs.length);
  buf[0] = 0x40 | (type << 4) | token.length;
  buf[1] = code;
  buf[2] = 0;
  buf[3] = 0;
  token.copy(buf, 4);
  let pos = 4 + token.length;
  if (etag !== undefined) {
    buf[pos++] = (Opt.ETag << 4) | etag.length;
    etag.copy(buf, pos);
    pos += etag.length;
  }
  buf[pos++] = ((etag === undefined ? Opt.Observe : Opt.Observe - Opt.ETag) << 4) | obs.length;
  obs.copy(buf, pos);
  return buf;
}

export function setMid(head: Buffer, mid: number): void {
  head[2] = (mid >> 8) & 0xff;
  head[3] = mid & 0xff;
}
