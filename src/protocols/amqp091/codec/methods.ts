/**
 * The AMQP 0-9-1 methods (amqp0-9-1.xml): class and method ids with their argument lists, and one
 * table-driven decoder/encoder for all of them. Arguments are read in order; consecutive bits share
 * an octet (§4.2.5.2). The hot methods (basic.publish in, basic.deliver out) also have hand-written
 * paths in fast-path.ts.
 */
import { ReplyCode } from "./constants.js";
import { AmqpError } from "./errors.js";
import { type FieldTable, Reader } from "./reader.js";
import type { Writer } from "./writer.js";

/** "bytes" is a longstr kept as raw bytes (SASL responses are not text). */
type FieldType = "octet" | "short" | "long" | "longlong" | "shortstr" | "longstr" | "bytes" | "bit" | "table";

/** Every argument name of every method, with its one type (names are consistent across methods). */
export interface MethodArgs {
  versionMajor?: number;
  versionMinor?: number;
  serverProperties?: FieldTable;
  mechanisms?: string;
  locales?: string;
  clientProperties?: FieldTable;
  mechanism?: string;
  response?: Buffer;
  locale?: string;
  challenge?: string;
  channelMax?: number;
  frameMax?: number;
  heartbeat?: number;
  virtualHost?: string;
  replyCode?: number;
  replyText?: string;
  classId?: number;
  methodId?: number;
  reason?: string;
  newSecret?: string;
  active?: boolean;
  exchange?: string;
  type?: string;
  passive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  noWait?: boolean;
  arguments?: FieldTable;
  ifUnused?: boolean;
  ifEmpty?: boolean;
  destination?: string;
  source?: string;
  routingKey?: string;
  queue?: string;
  exclusive?: boolean;
  messageCount?: number;
  consumerCount?: number;
  prefetchSize?: number;
  prefetchCount?: number;
  global?: boolean;
  consumerTag?: string;
  noLocal?: boolean;
  noAck?: boolean;
  mandatory?: boolean;
  immediate?: boolean;
  deliveryTag?: number;
  redelivered?: boolean;
  multiple?: boolean;
  requeue?: boolean;
  reserved1?: number | string | boolean;
  reserved2?: number | string | boolean;
}

type ArgName = keyof MethodArgs;

export interface MethodSpec {
  readonly classId: number;
  readonly methodId: number;
  readonly name: string;
  readonly fields: ReadonlyArray<readonly [ArgName, FieldType]>;
  /** Followed by a content header and body (basic.publish, return, deliver, get-ok). */
  readonly content: boolean;
}

export interface Method {
  classId: number;
  methodId: number;
  name: string;
  args: MethodArgs;
}

const CLOSE_FIELDS = [
  ["replyCode", "short"],
  ["replyText", "shortstr"],
  ["classId", "short"],
  ["methodId", "short"],
] as const;

const DEFS: Array<[number, number, string, ReadonlyArray<readonly [ArgName, FieldType]>, boolean?]> = [
  [
    10,
    10,
    "connection.start",
    [
      ["versionMajor", "octet"],
      ["versionMinor", "octet"],
      ["serverProperties", "table"],
      ["mechanisms", "longstr"],
      ["locales", "longstr"],
    ],
  ],
  [
    10,
    11,
    "connection.start-ok",
    [
      ["clientProperties", "table"],
      ["mechanism", "shortstr"],
      ["response", "bytes"],
      ["locale", "shortstr"],
    ],
  ],
  [10, 20, "connection.secure", [["challenge", "longstr"]]],
  [10, 21, "connection.secure-ok", [["response", "bytes"]]],
  [
    10,
    30,
    "connection.tune",
    [
      ["channelMax", "short"],
      ["frameMax", "long"],
      ["heartbeat", "short"],
    ],
  ],
  [
    10,
    31,
    "connection.tune-ok",
    [
      ["channelMax", "short"],
      ["frameMax", "long"],
      ["heartbeat", "short"],
    ],
  ],
  [
    10,
    40,
    "connection.open",
    [
      ["virtualHost", "shortstr"],
      ["reserved1", "shortstr"],
      ["reserved2", "bit"],
    ],
  ],
  [10, 41, "connection.open-ok", [["reserved1", "shortstr"]]],
  [10, 50, "connection.close", CLOSE_FIELDS],
  [10, 51, "connection.close-ok", []],
  [10, 60, "connection.blocked", [["reason", "shortstr"]]],
  [10, 61, "connection.unblocked", []],
  [
    10,
    70,
    "connection.update-secret",
    [
      ["newSecret", "longstr"],
      ["reason", "shortstr"],
    ],
  ],
  [10, 71, "connection.update-secret-ok", []],
  [20, 10, "channel.open", [["reserved1", "shortstr"]]],
  [20, 11, "channel.open-ok", [["reserved1", "longstr"]]],
  [20, 20, "channel.flow", [["active", "bit"]]],
  [20, 21, "channel.flow-ok", [["active", "bit"]]],
  [20, 40, "channel.close", CLOSE_FIELDS],
  [20, 41, "channel.close-ok", []],
  [
    40,
    10,
    "exchange.declare",
    [
      ["reserved1", "short"],
      ["exchange", "shortstr"],
      ["type", "shortstr"],
      ["passive", "bit"],
      ["durable", "bit"],
      ["autoDelete", "bit"],
      ["internal", "bit"],
      ["noWait", "bit"],
      ["arguments", "table"],
    ],
  ],
  [40, 11, "exchange.declare-ok", []],
  [
    40,
    20,
    "exchange.delete",
    [
      ["reserved1", "short"],
      ["exchange", "shortstr"],
      ["ifUnused", "bit"],
      ["noWait", "bit"],
    ],
  ],
  [40, 21, "exchange.delete-ok", []],
  [40, 30, "exchange.bind", exchangeBindFields()],
  [40, 31, "exchange.bind-ok", []],
  [40, 40, "exchange.unbind", exchangeBindFields()],
  [40, 51, "exchange.unbind-ok", []],
  [
    50,
    10,
    "queue.declare",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["passive", "bit"],
      ["durable", "bit"],
      ["exclusive", "bit"],
      ["autoDelete", "bit"],
      ["noWait", "bit"],
      ["arguments", "table"],
    ],
  ],
  [
    50,
    11,
    "queue.declare-ok",
    [
      ["queue", "shortstr"],
      ["messageCount", "long"],
      ["consumerCount", "long"],
    ],
  ],
  [
    50,
    20,
    "queue.bind",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
      ["noWait", "bit"],
      ["arguments", "table"],
    ],
  ],
  [50, 21, "queue.bind-ok", []],
  [
    50,
    50,
    "queue.unbind",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
      ["arguments", "table"],
    ],
  ],
  [50, 51, "queue.unbind-ok", []],
  [
    50,
    30,
    "queue.purge",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["noWait", "bit"],
    ],
  ],
  [50, 31, "queue.purge-ok", [["messageCount", "long"]]],
  [
    50,
    40,
    "queue.delete",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["ifUnused", "bit"],
      ["ifEmpty", "bit"],
      ["noWait", "bit"],
    ],
  ],
  [50, 41, "queue.delete-ok", [["messageCount", "long"]]],
  [
    60,
    10,
    "basic.qos",
    [
      ["prefetchSize", "long"],
      ["prefetchCount", "short"],
      ["global", "bit"],
    ],
  ],
  [60, 11, "basic.qos-ok", []],
  [
    60,
    20,
    "basic.consume",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["consumerTag", "shortstr"],
      ["noLocal", "bit"],
      ["noAck", "bit"],
      ["exclusive", "bit"],
      ["noWait", "bit"],
      ["arguments", "table"],
    ],
  ],
  [60, 21, "basic.consume-ok", [["consumerTag", "shortstr"]]],
  [
    60,
    30,
    "basic.cancel",
    [
      ["consumerTag", "shortstr"],
      ["noWait", "bit"],
    ],
  ],
  [60, 31, "basic.cancel-ok", [["consumerTag", "shortstr"]]],
  [
    60,
    40,
    "basic.publish",
    [
      ["reserved1", "short"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
      ["mandatory", "bit"],
      ["immediate", "bit"],
    ],
    true,
  ],
  [
    60,
    50,
    "basic.return",
    [
      ["replyCode", "short"],
      ["replyText", "shortstr"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
    ],
    true,
  ],
  [
    60,
    60,
    "basic.deliver",
    [
      ["consumerTag", "shortstr"],
      ["deliveryTag", "longlong"],
      ["redelivered", "bit"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
    ],
    true,
  ],
  [
    60,
    70,
    "basic.get",
    [
      ["reserved1", "short"],
      ["queue", "shortstr"],
      ["noAck", "bit"],
    ],
  ],
  [
    60,
    71,
    "basic.get-ok",
    [
      ["deliveryTag", "longlong"],
      ["redelivered", "bit"],
      ["exchange", "shortstr"],
      ["routingKey", "shortstr"],
      ["messageCount", "long"],
    ],
    true,
  ],
  [60, 72, "basic.get-empty", [["reserved1", "shortstr"]]],
  [
    60,
    80,
    "basic.ack",
    [
      ["deliveryTag", "longlong"],
      ["multiple", "bit"],
    ],
  ],
  [
    60,
    90,
    "basic.reject",
    [
      ["deliveryTag", "longlong"],
      ["requeue", "bit"],
    ],
  ],
  [60, 100, "basic.recover-async", [["requeue", "bit"]]],
  [60, 110, "basic.recover", [["requeue", "bit"]]],
  [60, 111, "basic.recover-ok", []],
  [
    60,
    120,
    "basic.nack",
    [
      ["deliveryTag", "longlong"],
      ["multiple", "bit"],
      ["requeue", "bit"],
    ],
  ],
  [85, 10, "confirm.select", [["noWait", "bit"]]],
  [85, 11, "confirm.select-ok", []],
  [90, 10, "tx.select", []],
  [90, 11, "tx.select-ok", []],
  [90, 20, "tx.commit", []],
  [90, 21, "tx.commit-ok", []],
  [90, 30, "tx.rollback", []],
  [90, 31, "tx.rollback-ok", []],
];

function exchangeBindFields(): ReadonlyArray<readonly [ArgName, FieldType]> {
  return [
    ["reserved1", "short"],
    ["destination", "shortstr"],
    ["source", "shortstr"],
    ["routingKey", "shortstr"],
    ["noWait", "bit"],
    ["arguments", "table"],
  ];
}

const BY_ID = new Map<number, MethodSpec>();
const BY_NAME = new Map<string, MethodSpec>();
for (const [classId, methodId, name, fields, content] of DEFS) {
  const spec: MethodSpec = { classId, methodId, name, fields, content: content ?? false };
  BY_ID.set((classId << 16) | methodId, spec);
  BY_NAME.set(name, spec);
}

export function methodSpec(classId: number, methodId: number): MethodSpec | undefined {
  return BY_ID.get((classId << 16) | methodId);
}

export function specByName(name: string): MethodSpec {
  const spec = BY_NAME.get(name);
  if (!spec) throw new Error(`no AMQP method ${name}`);
  return spec;
}

/** Decodes a method frame's payload. Unknown ids: 503 COMMAND_INVALID (a connection error). */
export function decodeMethod(payload: Buffer, start = 0, end = payload.length): Method {
  const r = new Reader(payload, start, end);
  const classId = r.short();
  const methodId = r.short();
  const spec = methodSpec(classId, methodId);
  if (!spec) {
    throw new AmqpError(
      ReplyCode.CommandInvalid,
      `unknown method ${classId}.${methodId}`,
      classId,
      methodId,
      true,
    );
  }
  const args: MethodArgs = {};
  const target = args as Record<string, unknown>;
  let bitByte = 0;
  let bitIndex = 8;
  for (const [name, type] of spec.fields) {
    if (type === "bit") {
      if (bitIndex === 8) {
        bitByte = r.octet();
        bitIndex = 0;
      }
      target[name] = (bitByte & (1 << bitIndex++)) !== 0;
      continue;
    }
    bitIndex = 8;
    target[name] = readField(r, type);
  }
  return { classId, methodId, name: spec.name, args };
}

function readField(r: Reader, type: FieldType): unknown {
  switch (type) {
    case "octet":
      return r.octet();
    case "short":
      return r.short();
    case "long":
      return r.long();
    case "longlong":
      return r.longlong();
    case "shortstr":
      return r.shortstr();
    case "longstr":
      return r.longstr();
    case "bytes":
      return Buffer.from(r.longstrBytes());
    case "table":
      return r.table();
    default:
      return undefined;
  }
}

/** Writes classId, methodId and the arguments (missing ones as zero / empty / false). */
export function writeMethod(w: Writer, spec: MethodSpec, args: MethodArgs): void {
  w.short(spec.classId);
  w.short(spec.methodId);
  const source = args as Record<string, unknown>;
  let bits = 0;
  let bitIndex = -1;
  const flushBits = (): void => {
    if (bitIndex >= 0) w.octet(bits);
    bits = 0;
    bitIndex = -1;
  };
  for (const [name, type] of spec.fields) {
    const v = source[name];
    if (type === "bit") {
      if (bitIndex === 7) flushBits();
      bitIndex++;
      if (v === true) bits |= 1 << bitIndex;
      continue;
    }
    flushBits();
    switch (type) {
      case "octet":
        w.octet((v as number | undefined) ?? 0);
        break;
      case "short":
        w.short((v as number | undefined) ?? 0);
        break;
      case "long":
        w.long((v as number | undefined) ?? 0);
        break;
      case "longlong":
        w.longlong((v as number | undefined) ?? 0);
        break;
      case "shortstr":
        w.shortstr((v as string | undefined) ?? "");
        break;
      case "longstr":
      case "bytes":
        w.longstr((v as string | Buffer | undefined) ?? "");
        break;
      case "table":
        w.table(v as FieldTable | undefined);
        break;
    }
  }
  flushBits();
}
