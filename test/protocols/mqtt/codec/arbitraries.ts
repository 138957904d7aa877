/** fast-check arbitraries for valid MQTT packets in the canonical form the decoder produces. */
import fc from "fast-check";
import type {
  Packet,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  Subscription,
  UserProperties,
} from "../../../../src/protocols/mqtt/codec/index.js";

/**
 * Canonical comparison form: undefined keys and empty property bags dropped, null-prototype objects
 * (fast-check makes them) rebuilt as plain ones, Buffers copied so views compare by content.
 */
export function canon(v: unknown): unknown {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      if (k === "properties" && Object.keys(val as object).length === 0) continue;
      out[k] = canon(val);
    }
    return out;
  }
  return v;
}

/** Well-formed UTF-8 without U+0000 ([MQTT-1.5.4-1], [MQTT-1.5.4-2]). */
export const mqttString = (maxLength = 12) =>
  fc
    .string({ unit: fc.oneof(fc.constant("a"), fc.string({ unit: "binary", maxLength: 1 })), maxLength })
    .filter((s) => !s.includes("\0") && Buffer.from(s, "utf8").toString("utf8") === s);

export const topicName = mqttString().filter((s) => s.length > 0 && !s.includes("+") && !s.includes("#"));
const topicFilter = mqttString().filter((s) => s.length > 0);
const bytes = (maxLength = 32) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const packetId = fc.integer({ min: 1, max: 0xffff });
const qos = fc.constantFrom<QoS>(0, 1, 2);
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bit = fc.constantFrom(0, 1);
const subId = fc.integer({ min: 1, max: 268_435_455 });
const userProps: fc.Arbitrary<UserProperties> = fc.array(fc.tuple(mqttString(), mqttString()), {
  minLength: 1,
  maxLength: 3,
});

type Model = { [K in keyof Properties]-?: fc.Arbitrary<Properties[K]> };

const MSG: Partial<Model> = {
  payloadFormatIndicator: bit,
  messageExpiryInterval: u32,
  contentType: mqttString(),
  responseTopic: topicName,
  correlationData: bytes(),
  userProperties: userProps,
};

const REASON: Partial<Model> = { reasonString: mqttString(), userProperties: userProps };

/** Valid properties for each packet kind (§2.2.2.2). */
export const PROPS = {
  connect: {
    sessionExpiryInterval: u32,
    authenticationMethod: mqttString(),
    authenticationData: bytes(),
    requestProblemInformation: bit,
    requestResponseInformation: bit,
    receiveMaximum: fc.integer({ min: 1, max: 0xffff }),
    topicAliasMaximum: u16,
    userProperties: userProps,
    maximumPacketSize: fc.integer({ min: 1, max: 0xffff_ffff }),
  },
  connack: {
    sessionExpiryInterval: u32,
    assignedClientIdentifier: mqttString(),
    serverKeepAlive: u16,
    authenticationMethod: mqttString(),
    authenticationData: bytes(),
    responseInformation: mqttString(),
    serverReference: mqttString(),
    reasonString: mqttString(),
    receiveMaximum: fc.integer({ min: 1, max: 0xffff }),
    topicAliasMaximum: u16,
    maximumQoS: bit,
    retainAvailable: bit,
    userProperties: userProps,
    maximumPacketSize: fc.integer({ min: 1, max: 0xffff_ffff }),
    wildcardSubscriptionAvailable: bit,
    subscriptionIdentifiersAvailable: bit,
    sharedSubscriptionAvailable: bit,
  },
  will: { ...MSG, willDelayInterval: u32 },
  publish: {
    ...MSG,
    topicAlias: fc.integer({ min: 1, max: 0xffff }),
    subscriptionIdentifiers: fc.array(subId, { minLength: 1, maxLength: 3 }),
  },
  ack: REASON,
  subscribe: {
    subscriptionIdentifiers: fc.array(subId, { minLength: 1, maxLength: 1 }),
    userProperties: userProps,
  },
  unsubscribe: { userProperties: userProps },
  disconnect: { ...REASON, sessionExpiryInterval: u32, serverReference: mqttString() },
  auth: { ...REASON, authenticationMethod: mqttString(), authenticationData: bytes() },
} satisfies Record<string, Partial<Model>>;

const props = (model: Partial<Model>, v: ProtocolVersion): fc.Arbitrary<Properties | undefined> =>
  v === 5 ? fc.record(model as Model, { requiredKeys: [] }) : fc.constant(undefined);

const reason = (v: ProtocolVersion) => (v === 5 ? u8 : fc.constant(undefined));

export function publishArb(v: ProtocolVersion): fc.Arbitrary<PublishPacket> {
  return fc
    .record({
      topic: topicName,
      payload: bytes(64),
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId,
      properties: props(PROPS.publish, v),
    })
    .map((p) => ({
      cmd: "publish" as const,
      ...p,
      dup: p.qos > 0 && p.dup,
      packetId: p.qos > 0 ? p.packetId : undefined,
    }));
}

function subscriptionArb(v: ProtocolVersion): fc.Arbitrary<Subscription> {
  if (v < 5) {
    return fc
      .record({ topic: topicFilter, qos })
      .map((s) => ({ ...s, noLocal: false, retainAsPublished: false, retainHandling: 0 as const }));
  }
  return fc.record({
    topic: topicFilter,
    qos,
    noLocal: fc.boolean(),
    retainAsPublished: fc.boolean(),
    retainHandling: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  });
}

export function connectArb(v: ProtocolVersion): fc.Arbitrary<Packet> {
  const will = fc.record({
    topic: topicName,
    payload: bytes(),
    qos,
    retain: fc.boolean(),
    properties: props(PROPS.will, v),
  });
  return fc
    .record({
      clean: fc.boolean(),
      keepalive: u16,
      clientId: mqttString(23),
      will: fc.option(will, { nil: undefined }),
      username: fc.option(mqttString(), { nil: undefined }),
      password: fc.option(bytes(), { nil: undefined }),
      properties: props(PROPS.connect, v),
    })
    .map((c) => ({
      cmd: "connect" as const,
      protocolName: v === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: v,
      ...c,
      // [MQTT-3.1.2-22] v3/v4 need a user name whenever there is a password.
      username: c.username ?? (c.password !== undefined && v < 5 ? "user" : undefined),
    }));
}

/** Any valid packet of every type for `v`, in decoded canonical form. */
export function packetArb(v: ProtocolVersion): fc.Arbitrary<Packet> {
  const arbs: fc.Arbitrary<Packet>[] = [
    connectArb(v),
    fc.record({
      cmd: fc.constant("connack" as const),
      sessionPresent: fc.boolean(),
      reasonCode: v === 5 ? u8 : fc.integer({ min: 0, max: 5 }),
      properties: props(PROPS.connack, v),
    }),
    publishArb(v),
    fc.record({
      cmd: fc.constantFrom("puback" as const, "pubrec" as const, "pubrel" as const, "pubcomp" as const),
      packetId,
      reasonCode: reason(v),
      properties: props(PROPS.ack, v),
    }),
    fc.record({
      cmd: fc.constant("subscribe" as const),
      packetId,
      subscriptions: fc.array(subscriptionArb(v), { minLength: 1, maxLength: 4 }),
      properties: props(PROPS.subscribe, v),
    }),
    fc.record({
      cmd: fc.constant("suback" as const),
      packetId,
      reasonCodes: fc.array(v === 5 ? u8 : fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 4 }),
      properties: props(PROPS.ack, v),
    }),
    fc.record({
      cmd: fc.constant("unsubscribe" as const),
      packetId,
      topics: fc.array(topicFilter, { minLength: 1, maxLength: 4 }),
      properties: props(PROPS.unsubscribe, v),
    }),
    fc.record({
      cmd: fc.constant("unsuback" as const),
      packetId,
      reasonCodes: v === 5 ? fc.array(u8, { maxLength: 4 }) : fc.constant(undefined),
      properties: props(PROPS.ack, v),
    }),
    fc.constant({ cmd: "pingreq" as const }),
    fc.constant({ cmd: "pingresp" as const }),
    fc.record({
      cmd: fc.constant("disconnect" as const),
      reasonCode: reason(v),
      properties: props(PROPS.disconnect, v),
    }),
  ];
  if (v === 5) {
    arbs.push(
      fc.record({ cmd: fc.constant("auth" as const), reasonCode: u8, properties: props(PROPS.auth, v) }),
    );
  }
  return fc.oneof(...arbs);
}
