/** Uri-Path segments under /ps <-> canonical topic (DESIGN.md: CoAP path /ps/a/b/c = topic a/b/c). */

/** Levels in a topic from CoAP (the MQTT default of mqtt.maxTopicLevels). */
export const MAX_TOPIC_LEVELS = 128;

/**
 * The topic named by `segments[from..]`, or an error text when a segment cannot be a topic level.
 * Runs on every request to /ps: one pass over the characters, no copy of the segment list.
 */
export function topicOf(segments: readonly string[], from = 0): { topic: string } | { error: string } {
  const n = segments.length - from;
  if (n > MAX_TOPIC_LEVELS) return { error: `more than ${MAX_TOPIC_LEVELS} topic levels` };
  // A topic name is at least one character ([MQTT-4.7.3-1]): "/ps/" alone names none.
  if (n === 1 && segments[from] === "") return { error: "empty topic name" };
  let topic = "";
  for (let i = from; i < segments.length; i++) {
    const s = segments[i]!;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      // Wildcards have no CoAP form, and a "/" inside a segment would merge levels.
      if (c === 0x2b /* + */ || c === 0x23 /* # */ || c === 0x2f /* / */ || c === 0) {
        return { error: `topic level "${s}" contains +, #, / or NUL` };
      }
    }
    topic = i === from ? s : `${topic}/${s}`;
  }
  return { topic };
}

export function pathOf(topic: string): string {
  return `/ps/${topic}`;
}
