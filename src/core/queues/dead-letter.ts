/**
 * The copy of a message that goes to a dead-letter queue. Like RabbitMQ it records why and where it
 * died (here as user properties, so every protocol shows them as headers) and loses its own expiry,
 * so that it does not expire again in the dead-letter queue for the same reason.
 */
import type { Message } from "../message.js";
import { DEATH_COUNT, DEATH_QUEUE, DEATH_REASON, type DeadLetterReason } from "./types.js";

export function deadLettered(message: Message, reason: DeadLetterReason, queue: string): Message {
  const old = message.properties.userProperties ?? [];
  let count = 0;
  const kept: Array<[string, string]> = [];
  for (const pair of old) {
    if (pair[0] === DEATH_COUNT) count = Number(pair[1]) || 0;
    else if (pair[0] !== DEATH_REASON && pair[0] !== DEATH_QUEUE) kept.push(pair);
  }
  kept.push([DEATH_REASON, reason], [DEATH_QUEUE, queue], [DEATH_COUNT, String(count + 1)]);
  const { expiresAt: _dropped, ...properties } = message.properties;
  return { ...message, properties: { ...properties, userProperties: kept }, encoded: undefined };
}

/** The reason recorded by the last dead-lettering, if any. */
export function deathReason(message: Message): DeadLetterReason | undefined {
  const pair = message.properties.userProperties?.find((p) => p[0] === DEATH_REASON);
  return pair?.[1] as DeadLetterReason | undefined;
}
