/**
 * What a selector sees of a core Message (docs/filters.md):
 * - `$topic`, `$qos`, `$retain`, `$contentType`, `$correlationId` (correlation data as UTF-8),
 *   `$responseTopic`, `$publisher` (client id), `$user` (principal), `$timestamp` and `$expiresAt`
 *   (ms since the epoch), `$size` (payload bytes): the message's own fields;
 * - any other name: the first user property (MQTT 5 user property, STOMP/AMQP header, ...) of that
 *   name, else the field of that name in a JSON object payload, where dots walk into nested objects
 *   (`sensor.temperature`). JSON numbers, strings and booleans are used as they are; null, objects,
 *   arrays and absent fields are null (UNKNOWN).
 *
 * One subject per message: the payload is parsed as JSON at most once, however many selectors test
 * the message (the router builds one per publish, and only when some subscription has a selector).
 */
import type { Message } from "../message.js";
import type { SelectorSubject, Value } from "./compile.js";

const UNPARSED = Symbol("unparsed");
const OPEN_BRACE = 0x7b;

/** Payloads larger than this are not parsed for selectors (their fields read as null). */
export const MAX_JSON_PAYLOAD = 1024 * 1024;

export class MessageSubject implements SelectorSubject {
  private json: unknown = UNPARSED;

  constructor(readonly message: Message) {}

  value(name: string): Value {
    const m = this.message;
    if (name.charCodeAt(0) === 0x24 /* $ */) return this.field(name);
    const up = m.properties.userProperties;
    if (up !== undefined) {
      for (const [k, v] of up) if (k === name) return v;
    }
    return this.jsonField(name);
  }

  private field(name: string): Value {
    const m = this.message;
    const p = m.properties;
    switch (name) {
      case "$topic":
        return m.topic;
      case "$qos":
        return m.qos;
      case "$retain":
        return m.retain;
      case "$contentType":
        return p.contentType ?? null;
      case "$correlationId":
        return p.correlationData === undefined ? null : p.correlationData.toString("utf8");
      case "$responseTopic":
        return p.responseTopic ?? null;
      case "$publisher":
        return m.publisherId;
      case "$user":
        return m.publisherUser ?? null;
      case "$timestamp":
        return m.timestamp;
      case "$expiresAt":
        return p.expiresAt ?? null;
      case "$size":
        return m.payload.length;
    }
    return null;
  }

  private jsonField(path: string): Value {
    let v = this.parsed();
    if (v === null || typeof v !== "object") return null;
    let start = 0;
    for (;;) {
      const dot = path.indexOf(".", start);
      const key = dot < 0 ? path.slice(start) : path.slice(start, dot);
      if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
      if (!Object.hasOwn(v, key)) return null;
      v = (v as Record<string, unknown>)[key];
      if (dot < 0) break;
      start = dot + 1;
    }
    return typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : null;
  }

  private parsed(): unknown {
    if (this.json !== UNPARSED) return this.json;
    this.json = null;
    const b = this.message.payload;
    if (b.length === 0 || b.length > MAX_JSON_PAYLOAD) return null;
    let i = 0;
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    if (b[i] !== OPEN_BRACE) return null;
    try {
      this.json = JSON.parse(b.toString("utf8"));
    } catch {
      this.json = null;
    }
    return this.json;
  }
}
