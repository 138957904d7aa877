/**
 * Binary values inside JSON, the WAMP way (WAMP §2.3.1 "JSON"): a string of a NUL character followed
 * by the Base64 of the bytes. The RPC payload mapping (rpc-payload.ts) uses the same rule, so a
 * binary argument survives a trip through any protocol's JSON.
 */
const NUL = "\u0000";

/** `v` with every Uint8Array replaced by "\0"+base64; `v` itself when it holds no binary. */
export function binaryToJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (v instanceof Uint8Array)
    return NUL + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      const r = binaryToJson(e);
      if (r !== e) {
        out ??= v.slice();
        out[i] = r;
      }
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    const e = obj[k];
    const r = binaryToJson(e);
    if (r !== e) {
      out ??= { ...obj };
      out[k] = r;
    }
  }
  return out ?? v;
}

/** Replaces, in place, every "\0"+base64 string by its bytes; returns the (possibly new) value. */
export function jsonToBinary(v: unknown): unknown {
  if (typeof v === "string") {
    return v.length > 0 && v.charCodeAt(0) === 0 ? Buffer.from(v.slice(1), "base64") : v;
  }
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (typeof e === "object" || typeof e === "string") v[i] = jsonToBinary(e);
    }
    return v;
  }
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    const e = obj[k];
    if (typeof e === "object" || typeof e === "string") obj[k] = jsonToBinary(e);
  }
  return v;
}
