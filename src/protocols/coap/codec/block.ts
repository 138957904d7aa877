/** Block1/Block2 option values (RFC 7959 §2.2): NUM (up to 20 bits), M, SZX (size 2^(SZX+4)). */

export interface BlockValue {
  num: number;
  more: boolean;
  szx: number;
}

export const blockSize = (szx: number): number => 1 << (szx + 4);

/** Undefined when SZX is 7 (reserved, RFC 7959 §2.2) or the value is over 3 bytes. */
export function decodeBlock(v: number): BlockValue | undefined {
  const szx = v & 7;
  if (szx === 7 || v > 0xffffff) return undefined;
  return { num: v >>> 4, more: (v & 8) !== 0, szx };
}

export function encodeBlock(b: BlockValue): number {
  return b.num * 16 + (b.more ? 8 : 0) + b.szx;
}

/** The largest SZX whose block fits in `bytes` (at least 0, i.e. 16 bytes). */
export function szxFor(bytes: number): number {
  let szx = 6;
  while (szx > 0 && blockSize(szx) > bytes) szx--;
  return szx;
}
