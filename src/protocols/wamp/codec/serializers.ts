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
import { binaryToJson, jsonToBinary } from "../../../core/json-binary.js";

export { binaryToJson, jsonToBinary };

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

export const jsonSerializer: Serializer = {
  name: "json",
  subprotocol: "wamp.2.json",
  rawSocketCode: 1,
  binary: false,
  encode(message) {
    return Buffer.from(JSON.stringify(binaryToJson(message)));
  },
  decode(bytes) {
    const text = bytes.toString("utf8");
    const value: unknown = JSON.parse(text);
    // JSON text cannot hold a raw NUL: a binary value's leading NUL is always the escape \u0000,
    // so without one there is nothing to restore and the walk is skipped.
    return text.includes("\\u0000") ? jsonToBinary(value) : value;
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
