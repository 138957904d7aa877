/** Entity tags for last values (RFC 7252 §5.10.6): a hash of the payload and the publish time. */
import type { Message } from "../../core/message.js";

const cache = new WeakMap<Message, Buffer>();

export function etagOf(m: Message): Buffer {
  let tag = cache.get(m);
  if (tag !== undefined) return tag;
  // FNV-1a over the payload: one pass, once per stored value.
  let h = 0x811c9dc5;
  const p = m.payload;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p[i]!, 0x01000193);
  tag = Buffer.allocUnsafe(8);
  tag.writeUInt32BE(h >>> 0, 0);
  tag.writeUInt32BE(m.timestamp % 0x100000000, 4);
  cache.set(m, tag);
  return tag;
}
