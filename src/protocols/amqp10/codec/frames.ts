/**
 * AMQP 1.0 framing (part 2 §2.3): an 8-byte frame header (size, doff, type, channel), the extended
 * header, a performative (a described list) and, for transfers, the payload. Performatives and
 * their field positions (part 2 §2.7, part 5 §5.3 for SASL) are here; the connection reads fields
 * by position.
 */
import { DecodeError, Reader } from "./decoder.js";
import { encodeList, Writer } from "./encoder.js";
import { type AmqpValue, type Described, descriptorCode } from "./types.js";

export const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x00, 0x01, 0x00, 0x00]);
export const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00]);

export const FRAME_AMQP = 0x00;
export const FRAME_SASL = 0x01;

/** The smallest max-frame-size a peer may announce (part 2 §2.7.1 MIN-MAX-FRAME-SIZE). */
export const MIN_MAX_FRAME_SIZE = 512;

/** Descriptor codes (ulong form; the symbolic form is `amqp:<name>:list`). */
export const P = {
  open: 0x10,
  begin: 0x11,
  attach: 0x12,
  flow: 0x13,
  transfer: 0x14,
  disposition: 0x15,
  detach: 0x16,
  end: 0x17,
  close: 0x18,
  error: 0x1d,
  received: 0x23,
  accepted: 0x24,
  rejected: 0x25,
  released: 0x26,
  modified: 0x27,
  source: 0x28,
  target: 0x29,
  deleteOnClose: 0x2b,
  deleteOnNoLinks: 0x2c,
  deleteOnNoMessages: 0x2d,
  deleteOnNoLinksOrMessages: 0x2e,
  declare: 0x31,
  coordinator: 0x30,
  saslMechanisms: 0x40,
  saslInit: 0x41,
  saslChallenge: 0x42,
  saslResponse: 0x43,
  saslOutcome: 0x44,
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  amqpSequence: 0x76,
  amqpValue: 0x77,
  footer: 0x78,
} as const;

/** Symbolic descriptors of the performatives and outcomes, mapped to their codes. */
const SYMBOLIC: Record<string, number> = {
  "amqp:open:list": P.open,
  "amqp:begin:list": P.begin,
  "amqp:attach:list": P.attach,
  "amqp:flow:list": P.flow,
  "amqp:transfer:list": P.transfer,
  "amqp:disposition:list": P.disposition,
  "amqp:detach:list": P.detach,
  "amqp:end:list": P.end,
  "amqp:close:list": P.close,
  "amqp:error:list": P.error,
  "amqp:received:list": P.received,
  "amqp:accepted:list": P.accepted,
  "amqp:rejected:list": P.rejected,
  "amqp:released:list": P.released,
  "amqp:modified:list": P.modified,
  "amqp:source:list": P.source,
  "amqp:target:list": P.target,
  "amqp:sasl-mechanisms:list": P.saslMechanisms,
  "amqp:sasl-init:list": P.saslInit,
  "amqp:sasl-challenge:list": P.saslChallenge,
  "amqp:sasl-response:list": P.saslResponse,
  "amqp:sasl-outcome:list": P.saslOutcome,
};

/** The code of a described value, whichever descriptor form it uses. */
export function codeOf(d: AmqpValue | undefined): number | undefined {
  if (d === undefined || d.type !== "described") return undefined;
  const c = descriptorCode(d);
  if (c !== undefined) return c;
  return d.descriptor.type === "symbol" ? SYMBOLIC[d.descriptor.value] : undefined;
}

/** The fields of a described list (a composite type), missing trailing fields absent. */
export function fieldsOf(d: AmqpValue | undefined): AmqpValue[] {
  if (d === undefined || d.type !== "described") return [];
  if (d.value.type !== "list") throw new DecodeError("composite type is not a list");
  return d.value.value;
}

export interface Frame {
  type: number;
  channel: number;
  /** The performative's descriptor code; undefined for an empty (heartbeat) frame. */
  code: number | undefined;
  fields: AmqpValue[];
  /** Bytes after the performative (a transfer's payload): a view into the read buffer. */
  payload: Buffer;
}

/**
 * Decodes the frame body in `buf` (header included, exactly one frame). Throws DecodeError for a
 * malformed performative.
 */
export function decodeFrame(buf: Buffer): Frame {
  const doff = buf[4]!;
  const type = buf[5]!;
  const channel = buf.readUInt16BE(6);
  const bodyStart = doff * 4;
  if (bodyStart < 8 || bodyStart > buf.length) throw new DecodeError(`bad data offset ${doff}`);
  if (bodyStart === buf.length) return { type, channel, code: undefined, fields: [], payload: EMPTY };
  const r = new Reader(buf, bodyStart);
  const perf = r.read();
  const code = codeOf(perf);
  if (code === undefined) throw new DecodeError("frame body is not a performative");
  const fields = fieldsOf(perf as Described);
  return { type, channel, code, fields, payload: buf.subarray(r.pos) };
}

const EMPTY = Buffer.alloc(0);

/** Trailing null fields are omitted (part 1 §1.4: absent trailing fields are null). */
function trimmed(fields: AmqpValue[]): AmqpValue[] {
  let n = fields.length;
  while (n > 0 && fields[n - 1]!.type === "null") n--;
  return n === fields.length ? fields : fields.slice(0, n);
}

/** One whole frame: header, performative, payload. */
export function encodeFrame(
  type: number,
  channel: number,
  code: number,
  fields: AmqpValue[],
  payload?: Buffer,
): Buffer {
  const w = new Writer(64 + (payload?.length ?? 0));
  w.ensure(8);
  w.pos = 8;
  w.u8(0x00);
  w.u8(0x53);
  w.u8(code);
  encodeList(w, trimmed(fields));
  if (payload) w.bytes(payload);
  const out = w.result();
  out.writeUInt32BE(out.length, 0);
  out[4] = 2;
  out[5] = type;
  out.writeUInt16BE(channel, 6);
  return out;
}

/** The empty frame: a heartbeat (part 2 §2.4.5). */
export const HEARTBEAT = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);
