/**
 * STOMP headers <-> core message properties: the one place STOMP metadata meets the common model,
 * the same properties MQTT 5 maps (docs/stomp.md has the table).
 *
 * | STOMP header                         | core                        | MQTT 5              |
 * |--------------------------------------|-----------------------------|---------------------|
 * | content-type                         | contentType                 | Content Type        |
 * | correlation-id                       | correlationData (UTF-8)     | Correlation Data    |
 * | reply-to (destination)               | responseTopic (topic)       | Response Topic      |
 * | expires (ms since epoch, ActiveMQ)   | expiresAt                   | Message Expiry (s)  |
 * | expiration (ms from now, RabbitMQ)   | expiresAt                   | Message Expiry (s)  |
 * | persistent:true                      | qos 1                       | QoS 1               |
 * | any other header                     | userProperties (in order)   | User Properties     |
 */
import { type Message, type MessageProperties, NO_PROPERTIES } from "../../core/message.js";
import { correlationIdToBytes, correlationIdToText, expiresAtFromMs } from "../../core/metadata.js";
import { escapeHeader, flattenHeader } from "./codec/escape.js";
import type { Header, StompVersion } from "./codec/frame.js";
import { destinationOfTopic } from "./destination.js";

/** SEND headers that steer the broker and are not carried with the message. */
const PROTOCOL_HEADERS: ReadonlySet<string> = new Set([
  "destination",
  "content-length",
  "receipt",
  "transaction",
  "persistent",
  "content-type",
  "correlation-id",
  "reply-to",
  "expires",
  "expiration",
]);

/** MESSAGE headers the broker writes itself: a user property of that name is sent as x-original-<name>. */
const RESERVED_OUT: ReadonlySet<string> = new Set([
  "destination",
  "content-length",
  "subscription",
  "message-id",
  "ack",
  "redelivered",
  "content-type",
  "correlation-id",
  "reply-to",
  "expires",
  "persistent",
]);

export interface SendMapping {
  properties: MessageProperties;
  /** `reply-to` as the client wrote it, when it is a /temp-queue/ (resolved by the connection). */
  tempReplyTo: string | undefined;
  persistent: boolean;
}

/**
 * Core properties from SEND headers. `resolveReplyTo` turns a reply-to destination into a topic
 * (undefined: not a destination replies can reach, the header is then kept as a user property).
 */
export function propertiesFromSend(
  headers: readonly Header[],
  now: number,
  resolveReplyTo: (destination: string) => string | undefined,
): SendMapping {
  let props: MessageProperties | undefined;
  let user: Array<[string, string]> | undefined;
  let persistent = false;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    // Repeated headers: only the first counts (STOMP 1.2 §"Repeated Header Entries"). Frames have
    // a handful of headers, so a look back is cheaper than a Set per message.
    if (seenBefore(headers, i, name)) continue;
    if (!PROTOCOL_HEADERS.has(name)) {
      user ??= [];
      user.push([name, value]);
      continue;
    }
    switch (name) {
      case "persistent":
        persistent = value === "true";
        break;
      case "content-type":
        props ??= {};
        props.contentType = value;
        break;
      case "correlation-id":
        props ??= {};
        props.correlationData = correlationIdToBytes(value);
        break;
      case "reply-to": {
        const topic = resolveReplyTo(value);
        if (topic === undefined) {
          user ??= [];
          user.push([name, value]);
        } else {
          props ??= {};
          props.responseTopic = topic;
        }
        break;
      }
      case "expires": {
        const at = Number(value);
        if (value !== "" && Number.isFinite(at) && at > 0) {
          props ??= {};
          props.expiresAt = at;
        }
        break;
      }
      case "expiration": {
        const ms = Number(value);
        if (value !== "" && Number.isFinite(ms) && ms >= 0) {
          props ??= {};
          props.expiresAt = Math.min(props.expiresAt ?? Number.POSITIVE_INFINITY, expiresAtFromMs(ms, now));
        }
        break;
      }
    }
  }
  if (user) {
    props ??= {};
    props.userProperties = user;
  }
  return { properties: props ?? NO_PROPERTIES, tempReplyTo: undefined, persistent };
}

function seenBefore(headers: readonly Header[], i: number, name: string): boolean {
  for (let j = 0; j < i; j++) if (headers[j]![0] === name) return true;
  return false;
}

/**
 * The headers of a MESSAGE frame that are the same for every subscriber (everything but
 * subscription, message-id, ack and redelivered), as text, one `name:value\n` per header.
 */
export function sharedMessageHeaders(message: Message, destination: string, version: StompVersion): string {
  const p = message.properties;
  let s = line("destination", destination, version);
  if (p.contentType !== undefined) s += line("content-type", p.contentType, version);
  if (p.correlationData !== undefined) {
    s += line("correlation-id", correlationIdToText(p.correlationData), version);
  }
  if (p.responseTopic !== undefined) s += line("reply-to", destinationOfTopic(p.responseTopic), version);
  if (p.expiresAt !== undefined) s += line("expires", String(p.expiresAt), version);
  if (message.qos > 0) s += "persistent:true\n";
  const user = p.userProperties;
  if (user !== undefined) {
    for (const [name, value] of user) {
      s += line(RESERVED_OUT.has(name) ? `x-original-${name}` : name, value, version);
    }
  }
  return s;
}

function line(name: string, value: string, version: StompVersion): string {
  if (version === "1.0") return `${flattenHeader(name)}:${flattenHeader(value)}\n`;
  return `${escapeHeader(name, version)}:${escapeHeader(value, version)}\n`;
}
