import { malformed, protocolError } from "./errors.js";
import type { Properties } from "./packets.js";
import type { Reader } from "./reader.js";
import { stringSize, vbiSize, type Writer } from "./writer.js";

/** Where a property may appear (§2.2.2.2): one bit per packet kind. */
export const In = {
  CONNECT: 1 << 0,
  CONNACK: 1 << 1,
  PUBLISH: 1 << 2,
  WILL: 1 << 3,
  PUBACK: 1 << 4, // also PUBREC, PUBREL, PUBCOMP
  SUBSCRIBE: 1 << 5,
  SUBACK: 1 << 6,
  UNSUBSCRIBE: 1 << 7,
  UNSUBACK: 1 << 8,
  DISCONNECT: 1 << 9,
  AUTH: 1 << 10,
} as const;

const ALL = (1 << 11) - 1;
const MSG = In.PUBLISH | In.WILL;
const REASON = In.CONNACK | In.PUBACK | In.SUBACK | In.UNSUBACK | In.DISCONNECT | In.AUTH;

enum T {
  Byte,
  U16,
  U32,
  Vbi,
  Str,
  Bin,
  Pair,
}

interface PropDef {
  id: number;
  key: keyof Properties;
  type: T;
  where: number;
  /** Value rule whose violation the spec calls a Protocol Error. */
  valid?: (v: number) => boolean;
}

const zeroOrOne = (v: number) => v === 0 || v === 1;
const nonZero = (v: number) => v !== 0;

/** Every MQTT 5 property (§2.2.2.2, table 2-4), in the order the encoder writes them. */
const DEFS: PropDef[] = [
  { id: 0x01, key: "payloadFormatIndicator", type: T.Byte, where: MSG, valid: zeroOrOne },
  { id: 0x02, key: "messageExpiryInterval", type: T.U32, where: MSG },
  { id: 0x03, key: "contentType", type: T.Str, where: MSG },
  { id: 0x08, key: "responseTopic", type: T.Str, where: MSG },
  { id: 0x09, key: "correlationData", type: T.Bin, where: MSG },
  // §3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
  { id: 0x0b, key: "subscriptionIdentifiers", type: T.Vbi, where: In.PUBLISH | In.SUBSCRIBE, valid: nonZero },
  { id: 0x11, key: "sessionExpiryInterval", type: T.U32, where: In.CONNECT | In.CONNACK | In.DISCONNECT },
  { id: 0x12, key: "assignedClientIdentifier", type: T.Str, where: In.CONNACK },
  { id: 0x13, key: "serverKeepAlive", type: T.U16, where: In.CONNACK },
  { id: 0x15, key: "authenticationMethod", type: T.Str, where: In.CONNECT | In.CONNACK | In.AUTH },
  { id: 0x16, key: "authenticationData", type: T.Bin, where: In.CONNECT | In.CONNACK | In.AUTH },
  { id: 0x17, key: "requestProblemInformation", type: T.Byte, where: In.CONNECT, valid: zeroOrOne },
  { id: 0x18, key: "willDelayInterval", type: T.U32, where: In.WILL },
  { id: 0x19, key: "requestResponseInformation", type: T.Byte, where: In.CONNECT, valid: zeroOrOne },
  { id: 0x1a, key: "responseInformation", type: T.Str, where: In.CONNACK },
  { id: 0x1c, key: "serverReference", type: T.Str, where: In.CONNACK | In.DISCONNECT },
  { id: 0x1f, key: "reasonString", type: T.Str, where: REASON },
  // §3.1.2.11.3 / §3.2.2.3.3: Receive Maximum 0 is a Protocol Error.
  { id: 0x21, key: "receiveMaximum", type: T.U16, where: In.CONNECT | In.CONNACK, valid: nonZero },
  { id: 0x22, key: "topicAliasMaximum", type: T.U16, where: In.CONNECT | In.CONNACK },
  // §3.3.2.3.4: Topic Alias 0 [MQTT-3.3.2-8], like one over the maximum, is for the broker to
  // answer with 0x94 (Topic Alias invalid): handlers/publish.ts.
  { id: 0x23, key: "topicAlias", type: T.U16, where: In.PUBLISH },
  { id: 0x24, key: "maximumQoS", type: T.Byte, where: In.CONNACK, valid: zeroOrOne },
  { id: 0x25, key: "retainAvailable", type: T.Byte, where: In.CONNACK, valid: zeroOrOne },
  { id: 0x26, key: "userProperties", type: T.Pair, where: ALL },
  // §3.1.2.11.4: Maximum Packet Size 0 is a Protocol Error.
  { id: 0x27, key: "maximumPacketSize", type: T.U32, where: In.CONNECT | In.CONNACK, valid: nonZero },
  { id: 0x28, key: "wildcardSubscriptionAvailable", type: T.Byte, where: In.CONNACK, valid: zeroOrOne },
  { id: 0x29, key: "subscriptionIdentifiersAvailable", type: T.Byte, where: In.CONNACK, valid: zeroOrOne },
  { id: 0x2a, key: "sharedSubscriptionAvailable", type: T.Byte, where: In.CONNACK, valid: zeroOrOne },
];

const BY_ID: (PropDef | undefined)[] = [];
for (const d of DEFS) BY_ID[d.id] = d;
/**
 * By property name, for encoding: a packet usually sets two or three of the 27 properties, so the
 * encoder walks the keys the object has rather than every definition.
 */
const BY_KEY = new Map<string, PropDef>(DEFS.map((d) => [d.key, d]));

type Bag = Record<string, unknown>;

/**
 * Reads a Property Length and the properties after it. Returns undefined when there are none, so the
 * common property-less packet allocates nothing.
 */
export function readProperties(r: Reader, where: number): Properties | undefined {
  const len = r.vbi("property length");
  if (len === 0) return undefined;
  if (len > r.left) throw malformed("property length runs past the end of the packet");
  // Narrow the reader to the property block so no value can run into the fields after it.
  const outerEnd = r.end;
  r.end = r.pos + len;
  const props: Bag = {};
  while (r.pos < r.end) {
    const id = r.vbi("property identifier");
    const def = BY_ID[id];
    // §2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    if (def === undefined) throw malformed(`unknown property 0x${id.toString(16)}`);
    if ((def.where & where) === 0) throw malformed(`property ${def.key} is not allowed in this packet`);
    readOne(r, def, props, where);
  }
  r.end = outerEnd;
  return props as Properties;
}

function readOne(r: Reader, def: PropDef, props: Bag, where: number): void {
  const key = def.key;
  if (def.type === T.Pair) {
    const k = r.string("user property name");
    const v = r.string("user property value");
    const list = props[key] as Array<[string, string]> | undefined;
    if (list === undefined) props[key] = [[k, v]];
    else list.push([k, v]);
    return;
  }
  if (def.id === 0x0b) {
    const id = r.vbi("subscription identifier");
    if (id === 0) throw protocolError("subscription identifier 0");
    const list = props[key] as number[] | undefined;
    // Repeatable only in PUBLISH (one per matching subscription, §3.3.2.3.8); once in SUBSCRIBE.
    if (list === undefined) props[key] = [id];
    else if (where === In.PUBLISH) list.push(id);
    else throw protocolError("subscription identifier included more than once");
    return;
  }
  // §2.2.2.2: including a non-repeatable property more than once is a Protocol Error.
  if (props[key] !== undefined) throw protocolError(`property ${key} included more than once`);
  let value: number | string | Buffer;
  switch (def.type) {
    case T.Byte:
      value = r.u8(key);
      break;
    case T.U16:
      value = r.u16(key);
      break;
    case T.U32:
      value = r.u32(key);
      break;
    case T.Vbi:
      value = r.vbi(key);
      break;
    case T.Str:
      value = r.string(key);
      break;
    default:
      value = r.binary(key);
  }
  if (def.valid !== undefined && !def.valid(value as number)) {
    throw protocolError(`property ${key} has invalid value ${String(value)}`);
  }
  props[key] = value;
}

/** Bytes of the property block, without its length prefix. Properties not allowed in `where` are skipped. */
export function propertiesSize(p: Properties | undefined, where: number): number {
  if (p === undefined) return 0;
  const bag = p as Bag;
  let size = 0;
  for (const key in bag) {
    const v = bag[key];
    const def = BY_KEY.get(key);
    if (v === undefined || def === undefined || (def.where & where) === 0) continue;
    size += valueSize(def, v);
  }
  return size;
}

function valueSize(def: PropDef, v: unknown): number {
  switch (def.type) {
    case T.Byte:
      return 2;
    case T.U16:
      return 3;
    case T.U32:
      return 5;
    case T.Vbi: {
      let n = 0;
      for (const id of v as number[]) n += 1 + vbiSize(id);
      return n;
    }
    case T.Str:
      return 1 + stringSize(v as string);
    case T.Bin:
      return 3 + (v as Buffer).length;
    default: {
      let n = 0;
      for (const [k, val] of v as Array<[string, string]>) n += 1 + stringSize(k) + stringSize(val);
      return n;
    }
  }
}

/** Bytes of a property block including its length prefix, from propertiesSize; -1 means "no block" (v3/v4). */
export function blockSize(len: number): number {
  return len < 0 ? 0 : vbiSize(len) + len;
}

/** Writes Property Length then the properties; `size` comes from propertiesSize. */
export function writeProperties(w: Writer, p: Properties | undefined, where: number, size: number): void {
  w.vbi(size);
  if (p === undefined || size === 0) return;
  const bag = p as Bag;
  for (const key in bag) {
    const v = bag[key];
    const def = BY_KEY.get(key);
    if (v === undefined || def === undefined || (def.where & where) === 0) continue;
    writeOne(w, def, v);
  }
}

function writeOne(w: Writer, def: PropDef, v: unknown): void {
  switch (def.type) {
    case T.Byte:
      w.u8(def.id);
      w.u8(v as number);
      return;
    case T.U16:
      w.u8(def.id);
      w.u16(v as number);
      return;
    case T.U32:
      w.u8(def.id);
      w.u32(v as number);
      return;
    case T.Vbi:
      for (const id of v as number[]) {
        w.u8(def.id);
        w.vbi(id);
      }
      return;
    case T.Str:
      w.u8(def.id);
      w.string(v as string);
      return;
    case T.Bin:
      w.u8(def.id);
      w.binary(v as Buffer);
      return;
    default:
      for (const [k, val] of v as Array<[string, string]>) {
        w.u8(def.id);
        w.string(k);
        w.string(val);
      }
  }
}
