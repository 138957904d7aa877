/** Hand-made packet bytes for malformed-input tests. */

/** UTF-8 string with its two-byte length prefix. */
export function str(s: string | Buffer): number[] {
  const b = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** A packet from its first byte and body bytes (Remaining Length computed, body < 16384 bytes). */
export function pkt(byte1: number, ...body: number[]): Buffer {
  const len = body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7];
  return Buffer.from([byte1, ...len, ...body]);
}

/** A v3.1.1/v5 CONNECT body with the given flags, then the payload fields given. */
export function connectBody(level: number, flags: number, ...rest: number[]): number[] {
  const props = level === 5 ? [0] : [];
  return [...str(level === 3 ? "MQIsdp" : "MQTT"), level, flags, 0, 60, ...props, ...rest];
}
