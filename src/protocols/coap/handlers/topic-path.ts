/** Uri-Path segments under /ps <-> canonical topic (DESIGN.md: CoAP path /ps/a/b/c = topic a/b/c). */

/** The topic, or an error text when a segment cannot be a topic level. */
export function topicOf(segments: readonly string[]): { topic: string } | { error: string } {
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
