/**
 * The protocol-independent message. Every adapter maps its protocol's metadata to and from these
 * fields the same way (DESIGN.md "One model underneath").
 */

export type QoS = 0 | 1 | 2;

export interface MessageProperties {
  contentType?: string;
  correlationData?: Buffer;
  /** Reply-to: where a responder should publish its answer (canonical topic form). */
  responseTopic?: string;
  /** Absolute expiry time in ms since the epoch; absent = never expires. */
  expiresAt?: number;
  /** Application headers / MQTT user properties / AMQP application-properties, order kept. */
  userProperties?: Array<[string, string]>;
  /** True when the publisher declared the payload to be UTF-8 text (MQTT payload format indicator 1). */
  payloadIsUtf8?: boolean;
}

export interface Message {
  /** Canonical topic: MQTT form, levels separated by "/". */
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: MessageProperties;
  /** Identity of the publishing session ("" for the broker itself, e.g. $SYS). */
  publisherId: string;
  /** Principal (user name) of the publisher, when authenticated. */
  publisherUser?: string;
  /** When the router accepted it (ms since the epoch). */
  timestamp: number;
  /**
   * Encoded-bytes cache, written by adapters: one entry per (protocol, variant) so a message sent to
   * many subscribers is encoded once (DESIGN.md hot-path rules). Never persisted.
   */
  encoded?: Map<string, Buffer>;
}

export function createMessage(
  topic: string,
  payload: Buffer,
  qos: QoS = 0,
  retain = false,
  properties: MessageProperties = {},
  publisherId = "",
): Message {
  return { topic, payload, qos, retain, properties, publisherId, timestamp: Date.now() };
}

/** Seconds left before expiry (rounded up), or undefined when the message never expires. */
export function remainingExpirySeconds(msg: Message, now: number): number | undefined {
  const at = msg.properties.expiresAt;
  if (at === undefined) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function isExpired(msg: Message, now: number): boolean {
  const at = msg.properties.expiresAt;
  return at !== undefined && at <= now;
}
