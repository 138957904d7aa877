/**
 * MQTT control packets as plain objects, one shape for 3.1, 3.1.1 and 5.0.
 * Version 3/4 packets simply leave the v5-only fields (properties, reason codes) unset.
 * This file is the contract between the codec (bytes <-> packets) and the connection state machine.
 */

/** Protocol level from CONNECT: 3 = MQTT 3.1 (MQIsdp), 4 = 3.1.1, 5 = 5.0. */
export type ProtocolVersion = 3 | 4 | 5;
export type QoS = 0 | 1 | 2;
export type UserProperties = Array<[string, string]>;

/** MQTT 5 properties (§2.2.2.2). Every field optional; absent means "not sent". */
export interface Properties {
  payloadFormatIndicator?: number; // 0x01
  messageExpiryInterval?: number; // 0x02
  contentType?: string; // 0x03
  responseTopic?: string; // 0x08
  correlationData?: Buffer; // 0x09
  subscriptionIdentifiers?: number[]; // 0x0B (repeatable in PUBLISH, single in SUBSCRIBE)
  sessionExpiryInterval?: number; // 0x11
  assignedClientIdentifier?: string; // 0x12
  serverKeepAlive?: number; // 0x13
  authenticationMethod?: string; // 0x15
  authenticationData?: Buffer; // 0x16
  requestProblemInformation?: number; // 0x17
  willDelayInterval?: number; // 0x18
  requestResponseInformation?: number; // 0x19
  responseInformation?: string; // 0x1A
  serverReference?: string; // 0x1C
  reasonString?: string; // 0x1F
  receiveMaximum?: number; // 0x21
  topicAliasMaximum?: number; // 0x22
  topicAlias?: number; // 0x23
  maximumQoS?: number; // 0x24
  retainAvailable?: number; // 0x25
  userProperties?: UserProperties; // 0x26 (repeatable, order kept)
  maximumPacketSize?: number; // 0x27
  wildcardSubscriptionAvailable?: number; // 0x28
  subscriptionIdentifiersAvailable?: number; // 0x29
  sharedSubscriptionAvailable?: number; // 0x2A
}

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** v5 will properties (will delay interval, message expiry, content type, ...). */
  properties?: Properties;
}

export interface ConnectPacket {
  cmd: "connect";
  protocolName: string; // "MQTT" or "MQIsdp"
  protocolVersion: ProtocolVersion;
  /** Clean session (v3/v4) or clean start (v5). */
  clean: boolean;
  keepalive: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Buffer;
  properties?: Properties;
}

export interface ConnackPacket {
  cmd: "connack";
  sessionPresent: boolean;
  /** v3/v4: connect return code 0..5; v5: reason code. */
  reasonCode: number;
  properties?: Properties;
}

/**
 * Key of the bytes a decoded PUBLISH came in (fixed header included): a view of the input, never a
 * copy. A symbol, so it stays out of encode and out of structural comparisons of packets.
 */
export const RAW: unique symbol = Symbol("mqtt.raw");

export interface PublishPacket {
  cmd: "publish";
  topic: string; // may be "" in v5 when a topic alias is used
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  packetId?: number; // present iff qos > 0
  properties?: Properties;
  /** Set by the decoder: the whole packet as received (see RAW). */
  [RAW]?: Buffer;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP share one shape. */
export interface AckPacket {
  cmd: "puback" | "pubrec" | "pubrel" | "pubcomp";
  packetId: number;
  reasonCode?: number; // v5 only; absent = 0
  properties?: Properties;
}

export interface Subscription {
  topic: string; // the topic filter
  qos: QoS;
  noLocal: boolean; // v5
  retainAsPublished: boolean; // v5
  retainHandling: 0 | 1 | 2; // v5
}

export interface SubscribePacket {
  cmd: "subscribe";
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  cmd: "suback";
  packetId: number;
  /** Granted QoS or failure code (0x80 in v3/v4; any v5 reason code). */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  cmd: "unsubscribe";
  packetId: number;
  topics: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  cmd: "unsuback";
  packetId: number;
  reasonCodes?: number[]; // v5 only
  properties?: Properties;
}

export interface PingreqPacket {
  cmd: "pingreq";
}
export interface PingrespPacket {
  cmd: "pingresp";
}

export interface DisconnectPacket {
  cmd: "disconnect";
  reasonCode?: number; // v5 only; absent = 0
  properties?: Properties;
}

export interface AuthPacket {
  cmd: "auth";
  reasonCode?: number; // v5 only
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** MQTT 5 reason codes used by the broker (§2.4). */
export const ReasonCode = {
  Success: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnectReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;
