/**
 * Codec microbenchmarks: our MqttDecoder / encodePublish / encode against the `mqtt-packet` package
 * (the codec of Aedes and MQTT.js) on the same bytes and the same packets.
 */
import { deepStrictEqual, strictEqual } from "node:assert";
import type { Packet as MpPacket } from "mqtt-packet";
import {
  decodePacket,
  encode,
  encodePublish,
  MqttDecoder,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
  type QoS,
} from "../../src/protocols/mqtt/codec/index.js";
import type { Bench, Runner } from "./harness.js";

type MqttPacketModule = typeof import("mqtt-packet");

/**
 * Loaded only by the mqtt-packet benchmarks: on load it builds a cache of 65,536 number buffers, heap
 * that the benchmarks of our codec should not carry around.
 */
async function mqttPacket(): Promise<MqttPacketModule> {
  return import("mqtt-packet");
}

const PAYLOAD = Buffer.alloc(64, 0x61);
/** v5 PUBLISH properties of the "v5" cases: two, of the kinds devices commonly send. */
const V5_PROPS = { contentType: "application/json", messageExpiryInterval: 3600 };
/** Packets per chunk: ~47 KB of 64-byte-payload PUBLISHes, about one large socket read. */
const PER_CHUNK = 512;
/** Sizes the split stream is cut into, cycled: odd, so packets straddle chunks at every offset. */
const ODD_SIZES = [1447, 3, 211, 4093, 29, 997, 1];

function topicOf(i: number): string {
  return `site/${i % 100}/device/${i % 37}/temp`;
}

function publishPacket(i: number, version: ProtocolVersion, qos: QoS): PublishPacket {
  return {
    cmd: "publish",
    topic: topicOf(i),
    payload: PAYLOAD,
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { packetId: (i % 65535) + 1 } : {}),
    ...(version === 5 ? { properties: { ...V5_PROPS } } : {}),
  };
}

/** `count` PUBLISHes back to back, as one client would send them. */
function publishChunk(version: ProtocolVersion, qos: QoS, count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(encodePublish(publishPacket(i, version, qos), version));
  return Buffer.concat(parts);
}

function splitOdd(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, k = 0; off < buf.length; k++) {
    const size = ODD_SIZES[k % ODD_SIZES.length];
    // A copy per chunk, as a socket would hand over distinct buffers.
    out.push(Buffer.from(buf.subarray(off, off + size)));
    off += size;
  }
  return out;
}

interface DecodeInput {
  name: string;
  version: ProtocolVersion;
  chunks: Buffer[];
  packets: number;
}

function decodeInputs(): DecodeInput[] {
  const v4q0 = publishChunk(4, 0, PER_CHUNK);
  return [
    { name: `v4 PUBLISH QoS 0, ${PER_CHUNK} per chunk`, version: 4, chunks: [v4q0], packets: PER_CHUNK },
    {
      name: `v5 PUBLISH QoS 0 + 2 props, ${PER_CHUNK} per chunk`,
      version: 5,
      chunks: [publishChunk(5, 0, PER_CHUNK)],
      packets: PER_CHUNK,
    },
    {
      name: `v4 PUBLISH QoS 1, ${PER_CHUNK} per chunk`,
      version: 4,
      chunks: [publishChunk(4, 1, PER_CHUNK)],
      packets: PER_CHUNK,
    },
    {
      name: `v4 PUBLISH QoS 0, odd-sized chunks (${ODD_SIZES.join("/")} B)`,
      version: 4,
      chunks: splitOdd(Buffer.concat([v4q0, v4q0, v4q0, v4q0])),
      packets: 4 * PER_CHUNK,
    },
  ];
}

function oursDecode(input: DecodeInput): Runner {
  const decoder = new MqttDecoder({ maxPacketSize: 268_435_455 });
  decoder.version = input.version;
  let count = 0;
  let bytes = 0;
  const onPacket = (p: Packet) => {
    count++;
    if (p.cmd === "publish") bytes += p.payload.length + p.topic.length;
  };
  const chunks = input.chunks;
  const run: Runner = (iterations) => {
    count = 0;
    bytes = 0;
    for (let i = 0; i < iterations; i++) {
      for (let c = 0; c < chunks.length; c++) decoder.push(chunks[c], onPacket);
    }
    return count + bytes;
  };
  check(run, input, () => count);
  return run;
}

function mqttPacketDecode({ parser }: MqttPacketModule, input: DecodeInput): Runner {
  const p = parser({ protocolVersion: input.version });
  let count = 0;
  let bytes = 0;
  p.on("packet", (packet: MpPacket) => {
    count++;
    if (packet.cmd === "publish") bytes += packet.payload.length + packet.topic.length;
  });
  p.on("error", (err: unknown) => {
    throw err;
  });
  const chunks = input.chunks;
  const run: Runner = (iterations) => {
    count = 0;
    bytes = 0;
    for (let i = 0; i < iterations; i++) {
      for (let c = 0; c < chunks.length; c++) p.parse(chunks[c]);
    }
    return count + bytes;
  };
  check(run, input, () => count);
  return run;
}

/** One pass must yield exactly the packets encoded into the input, whole. */
function check(run: Runner, input: DecodeInput, count: () => number): void {
  run(1);
  strictEqual(count(), input.packets, `decoded ${count()} packets of ${input.packets}`);
}

interface EncodeCase {
  name: string;
  ours: () => Runner;
  theirs: (mp: MqttPacketModule) => Runner;
}

function publishCase(version: ProtocolVersion, qos: QoS): EncodeCase {
  const props = version === 5 ? " + 2 props" : "";
  return {
    name: `PUBLISH v${version} QoS ${qos}${props}`,
    ours: () => {
      const p = publishPacket(17, version, qos);
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          if (qos > 0) p.packetId = (i & 0xfffe) + 1;
          n += encodePublish(p, version).length;
        }
        return n;
      };
    },
    theirs: ({ generate }) => {
      const p = mpPublish(17, version, qos);
      const opts = { protocolVersion: version };
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          if (qos > 0) p.messageId = (i & 0xfffe) + 1;
          n += generate(p, opts).length;
        }
        return n;
      };
    },
  };
}

function mpPublish(i: number, version: ProtocolVersion, qos: QoS): MpPacket & { cmd: "publish" } {
  return {
    cmd: "publish",
    topic: topicOf(i),
    payload: PAYLOAD,
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { messageId: (i % 65535) + 1 } : {}),
    ...(version === 5 ? { properties: { ...V5_PROPS } } : {}),
  };
}

function pubackCase(version: ProtocolVersion): EncodeCase {
  return {
    name: `PUBACK v${version}`,
    ours: () => {
      const p = { cmd: "puback" as const, packetId: 1 };
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          p.packetId = (i & 0xfffe) + 1;
          n += encode(p, version).length;
        }
        return n;
      };
    },
    theirs: ({ generate }) => {
      const p = { cmd: "puback" as const, messageId: 1 };
      const opts = { protocolVersion: version };
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          p.messageId = (i & 0xfffe) + 1;
          n += generate(p, opts).length;
        }
        return n;
      };
    },
  };
}

function subackCase(version: ProtocolVersion): EncodeCase {
  return {
    name: `SUBACK v${version}, 2 granted`,
    ours: () => {
      const p = { cmd: "suback" as const, packetId: 1, reasonCodes: [0, 1] };
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          p.packetId = (i & 0xfffe) + 1;
          n += encode(p, version).length;
        }
        return n;
      };
    },
    theirs: ({ generate }) => {
      const p = { cmd: "suback" as const, messageId: 1, granted: [0, 1] };
      const opts = { protocolVersion: version };
      return (iterations) => {
        let n = 0;
        for (let i = 0; i < iterations; i++) {
          p.messageId = (i & 0xfffe) + 1;
          n += generate(p, opts).length;
        }
        return n;
      };
    },
  };
}

/** The string-keyed fields only: the decoder may attach symbol-keyed extras (the raw bytes). */
function plain(p: Packet): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p));
}

/**
 * Both encoders must produce packets our decoder reads back as the same packet (and, for v3.1.1, the
 * very same bytes), or the comparison would not be of equal work.
 */
function checkEncoders({ generate }: MqttPacketModule): void {
  for (const version of [4, 5] as const) {
    for (const qos of [0, 1] as const) {
      const ours = encodePublish(publishPacket(17, version, qos), version);
      const theirs = generate(mpPublish(17, version, qos), { protocolVersion: version });
      if (version === 4) deepStrictEqual(theirs, ours, `PUBLISH v${version} QoS ${qos} bytes differ`);
      deepStrictEqual(plain(decodePacket(theirs, version)), plain(decodePacket(ours, version)));
    }
    deepStrictEqual(
      plain(decodePacket(generate({ cmd: "puback", messageId: 7 }, { protocolVersion: version }), version)),
      plain(decodePacket(encode({ cmd: "puback", packetId: 7 }, version), version)),
    );
    deepStrictEqual(
      generate({ cmd: "suback", messageId: 7, granted: [0, 1] }, { protocolVersion: version }),
      encode({ cmd: "suback", packetId: 7, reasonCodes: [0, 1] }, version),
    );
  }
}

export function codecBenches(): Bench[] {
  const benches: Bench[] = [];
  // Built here, not in setup: cheap (~200 KB), and the names are needed before any setup.
  decodeInputs().forEach((d, k) => {
    const slug = ["v4-qos0", "v5-qos0", "v4-qos1", "v4-split"][k];
    const per = d.packets / d.chunks.length;
    const note =
      d.chunks.length === 1
        ? `${d.chunks[0].length} B chunk`
        : `${d.chunks.length} chunks, ${per.toFixed(1)} pkt/chunk`;
    benches.push(
      {
        id: `decode/${slug}/ours`,
        group: "decode",
        case: d.name,
        impl: "ours",
        unit: "packet",
        unitsPerOp: d.packets,
        note,
        setup: () => oursDecode(d),
      },
      {
        id: `decode/${slug}/mqtt-packet`,
        group: "decode",
        case: d.name,
        impl: "mqtt-packet",
        unit: "packet",
        unitsPerOp: d.packets,
        note,
        setup: async () => mqttPacketDecode(await mqttPacket(), d),
      },
    );
  });
  const cases: Array<[string, EncodeCase]> = [
    ["publish-v4-qos0", publishCase(4, 0)],
    ["publish-v4-qos1", publishCase(4, 1)],
    ["publish-v5-qos0", publishCase(5, 0)],
    ["publish-v5-qos1", publishCase(5, 1)],
    ["puback-v4", pubackCase(4)],
    ["puback-v5", pubackCase(5)],
    ["suback-v4", subackCase(4)],
    ["suback-v5", subackCase(5)],
  ];
  for (const [slug, c] of cases) {
    benches.push(
      {
        id: `encode/${slug}/ours`,
        group: "encode",
        case: c.name,
        impl: "ours",
        unit: "packet",
        unitsPerOp: 1,
        setup: c.ours,
      },
      {
        id: `encode/${slug}/mqtt-packet`,
        group: "encode",
        case: c.name,
        impl: "mqtt-packet",
        unit: "packet",
        unitsPerOp: 1,
        setup: async () => {
          const mp = await mqttPacket();
          checkEncoders(mp);
          return c.theirs(mp);
        },
      },
    );
  }
  return benches;
}
