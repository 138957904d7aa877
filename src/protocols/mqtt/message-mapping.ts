/** MQTT PUBLISH <-> core Message: the one place MQTT metadata meets the common properties. */
import {
  type Message,
  type MessageProperties,
  NO_PROPERTIES,
  remainingExpirySeconds,
} from "../../core/message.js";
import { expiresAtFromSeconds } from "../../core/metadata.js";
import type { Properties, PublishPacket } from "./codec/packets.js";

/** Core properties from a v5 PUBLISH (or will) property set. */
export function propertiesFromMqtt(p: Properties | undefined, now: number): MessageProperties {
  if (!p) return NO_PROPERTIES;
  const out: MessageProperties = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.correlationData !== undefined) out.correlationData = p.correlationData;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.messageExpiryInterval !== undefined)
    out.expiresAt = expiresAtFromSeconds(p.messageExpiryInterval, now);
  if (p.userProperties !== undefined) out.userProperties = p.userProperties;
  if (p.payloadFormatIndicator === 1) out.payloadIsUtf8 = true;
  return out;
}

/**
 * v5 PUBLISH properties for a message as forwarded now: the expiry interval is what is left of
 * it ([MQTT-3.3.2-6]); the rest is passed through unchanged ([MQTT-3.3.2-4] etc.).
 */
export function propertiesToMqtt(m: Message, now: number): Properties | undefined {
  const mp = m.properties;
  const expiry = remainingExpirySeconds(m, now);
  if (
    expiry === undefined &&
    mp.contentType === undefined &&
    mp.correlationData === undefined &&
    mp.responseTopic === undefined &&
    mp.userProperties === undefined &&
    !mp.payloadIsUtf8
  ) {
    return undefined;
  }
  const p: Properties = {};
  if (mp.payloadIsUtf8) p.payloadFormatIndicator = 1;
  if (expiry !== undefined) p.messageExpiryInterval = expiry;
  if (mp.contentType !== undefined) p.contentType = mp.contentType;
  if (mp.responseTopic !== undefined) p.responseTopic = mp.responseTopic;
  if (mp.correlationData !== undefined) p.correlationData = mp.correlationData;
  if (mp.userProperties !== undefined) p.userProperties = mp.userProperties;
  return p;
}

export function hasNoPerMessageProperties(m: Message): boolean {
  const mp = m.properties;
  return (
    mp.expiresAt === undefined &&
    mp.contentType === undefined &&
    mp.correlationData === undefined &&
    mp.responseTopic === undefined &&
    mp.userProperties === undefined &&
    !mp.payloadIsUtf8
  );
}

export type { PublishPacket };
