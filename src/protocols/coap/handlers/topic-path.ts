/** Uri-Path segments under /ps <-> canonical topic (DESIGN.md: CoAP path /ps/a/b/c = topic a/b/c). */

/** Levels in a topic from CoAP (the MQTT default of mqtt.maxTopicLevels). */
export const MAX_TOPIC_LEVELS = 128;

/** The topic, or an error text when a segment cannot be a topic level. */
export function topicOf(segments: readonly string[]): { topic: string } | { error: string } {
  if (segments.length > MAX_TOPIC_LEVELS) return { error: `more than ${MAX_TOPIC_LEVELS} topic levels` };
  // A topic name is at least one character ([MQTT-4.7.3-1]): "/ps/" alone names none.
  if (segments.length === 1 && segments[0] === "") return { error: "empty topic name" };
  for (const s of segments) {
    // Wildcards have no CoAP form, and a "/" inside a segment would merge levels.
    if (s.includes("+") || s.includes("#") || s.includes("/") || s.includes("\u0000")) {
      return { error: `topic level "${s}" contains +, #, / or NUL` };
    }
  }
  return { topic: segments.join("/") };
}

export function pathOf(topic: string): string {
  return `/ps/${topic}`;
}
