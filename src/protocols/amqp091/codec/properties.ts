/**
 * The basic class content properties (§4.2.6, amqp0-9-1.xml class basic): a 16-bit flag word with
 * one bit per property from bit 15 down, then the present properties in order.
 */
import { ReplyCode } from "./constants.js";
import { AmqpError } from "./errors.js";
import type { FieldTable, Reader } from "./reader.js";
import type { Writer } from "./writer.js";

export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch (AMQP timestamps have a one-second resolution). */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

const F_CONTENT_TYPE = 1 << 15;
const F_CONTENT_ENCODING = 1 << 14;
const F_HEADERS = 1 << 13;
const F_DELIVERY_MODE = 1 << 12;
const F_PRIORITY = 1 << 11;
const F_CORRELATION_ID = 1 << 10;
const F_REPLY_TO = 1 << 9;
const F_EXPIRATION = 1 << 8;
const F_MESSAGE_ID = 1 << 7;
const F_TIMESTAMP = 1 << 6;
const F_TYPE = 1 << 5;
const F_USER_ID = 1 << 4;
const F_APP_ID = 1 << 3;
const F_CLUSTER_ID = 1 << 2;

export function readProperties(r: Reader): BasicProperties {
  const flags = r.short();
  // Bit 0 says another flag word follows; basic has only 14 properties, so none may.
  if (flags & 1) throw new AmqpError(ReplyCode.FrameError, "unexpected property flag continuation");
  const p: BasicProperties = {};
  if (flags === 0) return p;
  if (flags & F_CONTENT_TYPE) p.contentType = r.shortstr();
  if (flags & F_CONTENT_ENCODING) p.contentEncoding = r.shortstr();
  if (flags & F_HEADERS) p.headers = r.table();
  if (flags & F_DELIVERY_MODE) p.deliveryMode = r.octet();
  if (flags & F_PRIORITY) p.priority = r.octet();
  if (flags & F_CORRELATION_ID) p.correlationId = r.shortstr();
  if (flags & F_REPLY_TO) p.replyTo = r.shortstr();
  if (flags & F_EXPIRATION) p.expiration = r.shortstr();
  if (flags & F_MESSAGE_ID) p.messageId = r.shortstr();
  if (flags & F_TIMESTAMP) p.timestamp = r.longlong();
  if (flags & F_TYPE) p.type = r.shortstr();
  if (flags & F_USER_ID) p.userId = r.shortstr();
  if (flags & F_APP_ID) p.appId = r.shortstr();
  if (flags & F_CLUSTER_ID) p.clusterId = r.shortstr();
  return p;
}

export function writeProperties(w: Writer, p: BasicProperties): void {
  let flags = 0;
  if (p.contentType !== undefined) flags |= F_CONTENT_TYPE;
  if (p.contentEncoding !== undefined) flags |= F_CONTENT_ENCODING;
  if (p.headers !== undefined) flags |= F_HEADERS;
  if (p.deliveryMode !== undefined) flags |= F_DELIVERY_MODE;
  if (p.priority !== undefined) flags |= F_PRIORITY;
  if (p.correlationId !== undefined) flags |= F_CORRELATION_ID;
  if (p.replyTo !== undefined) flags |= F_REPLY_TO;
  if (p.expiration !== undefined) flags |= F_EXPIRATION;
  if (p.messageId !== undefined) flags |= F_MESSAGE_ID;
  if (p.timestamp !== undefined) flags |= F_TIMESTAMP;
  if (p.type !== undefined) flags |= F_TYPE;
  if (p.userId !== undefined) flags |= F_USER_ID;
  if (p.appId !== undefined) flags |= F_APP_ID;
  if (p.clusterId !== undefined) flags |= F_CLUSTER_ID;
  w.short(flags);
  if (p.contentType !== undefined) w.shortstr(p.contentType);
  if (p.contentEncoding !== undefined) w.shortstr(p.contentEncoding);
  if (p.headers !== undefined) w.table(p.headers);
  if (p.deliveryMode !== undefined) w.octet(p.deliveryMode);
  if (p.priority !== undefined) w.octet(p.priority);
  if (p.correlationId !== undefined) w.shortstr(p.correlationId);
  if (p.replyTo !== undefined) w.shortstr(p.replyTo);
  if (p.expiration !== undefined) w.shortstr(p.expiration);
  if (p.messageId !== undefined) w.shortstr(p.messageId);
  if (p.timestamp !== undefined) w.longlong(p.timestamp);
  if (p.type !== undefined) w.shortstr(p.type);
  if (p.userId !== undefined) w.shortstr(p.userId);
  if (p.appId !== undefined) w.shortstr(p.appId);
  if (p.clusterId !== undefined) w.shortstr(p.clusterId);
}
