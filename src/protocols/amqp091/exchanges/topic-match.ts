/**
 * AMQP topic matching (amqp0-9-1.xml, exchange type "topic"): words separated by ".", `*` matches
 * exactly one word, `#` zero or more, anywhere in the key. Used by declared topic exchanges; the
 * shared `amq.topic` goes through the core's topic tree instead (see topic-bridge.ts).
 */

/** A binding key split once, at bind time. */
export type TopicPattern = readonly string[];

export function compileTopicPattern(key: string): TopicPattern {
  return key.split(".");
}

/** Does routing key `words` (already split) match `pattern`? Iterative with one backtrack point per `#`. */
export function topicMatches(pattern: TopicPattern, words: readonly string[]): boolean {
  return matchFrom(pattern, 0, words, 0);
}

function matchFrom(p: TopicPattern, pi: number, w: readonly string[], wi: number): boolean {
  while (pi < p.length) {
    const word = p[pi]!;
    if (word === "#") {
      // Collapse consecutive "#"s, then try every split point for the rest.
      while (pi + 1 < p.length && p[pi + 1] === "#") pi++;
      if (pi === p.length - 1) return true;
      for (let k = wi; k <= w.length; k++) if (matchFrom(p, pi + 1, w, k)) return true;
      return false;
    }
    if (wi >= w.length) return false;
    if (word !== "*" && word !== w[wi]) return false;
    pi++;
    wi++;
  }
  return wi === w.length;
}
