/**
 * The three WAMP serializers (WAMP §2.3 "Serializations"): JSON, MessagePack (msgpackr) and CBOR
 * (cbor-x). Each turns a message (an array) into bytes and back; none does I/O.
 *
 * JSON has no binary type, so binary values travel as a string: a NUL character followed by the
 * Base64 of the bytes (WAMP §2.3.1 "JSON": "\u0000" + base64). Encoding walks the value only to find
 * binary; a message without any is passed to JSON.stringify as it is.
 */
import { Decoder as CborDecoder, Encoder as CborEncoder, type Options as CborOptions } from "cbor-x";
import { Packr } from "msgpackr";

export type SerializerName = "json" | "msgpack" | "cbor";

export interface Serializer {
  readonly name: SerializerName;
  /** WebSocket subprotocol: wamp.2.json, wamp.2.msgpack, wamp.2.cbor. */
  readonly subprotocol: string;
  /** RawSocket serializer code (WAMP §14.5.3.1): 1 JSON, 2 MessagePack, 3 CBOR. */
  readonly rawSocketCode: number;
  /** True when WebSocket frames are binary (text for JSON). */
  readonly binary: boolean;
  encode(message: unknown[]): Buffer;
  /** Throws on bytes that are not one value of this serialization. */
  decode(bytes: Buffer): unknown;
}

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

export const jsonSerializer: Serializer = {
  name: "json",
  subprotocol: "wamp.2.json",
  rawSocketCode: 1,
  binary: false,
  encode(message) {
    return Buffer.from(JSON.stringify(binaryToJson(message)));
  },
  decode(bytes) {
    return jsonToBinary(JSON.parse(bytes.toString("utf8")));
  },
};

// WAMP ids reach 2^53 and arrive as 64-bit integers: decode them as numbers, not BigInt.
const packr = new Packr({
  int64AsType: "number",
  useRecords: false,
  mapsAsObjects: true,
  encodeUndefinedAsNil: true,
  variableMapSize: true,
});

export const msgpackSerializer: Serializer = {
  name: "msgpack",
  subprotocol: "wamp.2.msgpack",
  rawSocketCode: 2,
  binary: true,
  encode(message) {
    return packr.pack(message);
  },
  decode(bytes) {
    return packr.unpack(bytes);
  },
};

const cborEncoder = new CborEncoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const cborDecoder = new CborDecoder({
  useRecords: false,
  mapsAsObjects: true,
  int64AsNumber: true,
} as CborOptions);

export const cborSerializer: Serializer = {
  name: "cbor",
  subprotocol: "wamp.2.cbor",
  rawSocketCode: 3,
  binary: true,
  encode(message) {
    return cborEncoder.encode(message);
  },
  decode(bytes) {
    return cborDecoder.decode(bytes);
  },
};

export const SERIALIZERS: readonly Serializer[] = [jsonSerializer, msgpackSerializer, cborSerializer];

export function serializerBySubprotocol(name: string): Serializer | undefined {
  return SERIALIZERS.find((s) => s.subprotocol === name);
}

export function serializerByRawSocketCode(code: number): Serializer | undefined {
  return SERIALIZERS.find((s) => s.rawSocketCode === code);
}
