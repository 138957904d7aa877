/**
 * Procedure registrations by match policy, as Crossbar.io's observation map does it: an exact map, a
 * prefix map and a wildcard list. `best()` answers which registration serves a call: exact before
 * prefix before wildcard; among prefixes the longest; among wildcards the one with the most
 * non-empty components, then the one registered first (WAMP advanced profile, "Pattern-based
 * Registrations"). Pure: no timers, no I/O.
 */

export type MatchPolicy = "exact" | "prefix" | "wildcard";

export interface Pattern {
  readonly procedure: string;
  readonly match: MatchPolicy;
}

interface WildcardEntry<T> {
  value: T;
  components: string[];
  /** Non-empty components: the more, the more specific. */
  weight: number;
  order: number;
}

export class PatternRegistry<T extends Pattern> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes = new Map<string, T>();
  /** Distinct prefix lengths, longest first. */
  private prefixLengths: number[] = [];
  private wildcards: WildcardEntry<T>[] = [];
  private order = 0;

  get(procedure: string, match: MatchPolicy): T | undefined {
    if (match === "exact") return this.exact.get(procedure);
    if (match === "prefix") return this.prefixes.get(procedure);
    return this.wildcards.find((w) => w.value.procedure === procedure)?.value;
  }

  add(value: T): void {
    const { procedure, match } = value;
    if (match === "exact") this.exact.set(procedure, value);
    else if (match === "prefix") {
      this.prefixes.set(procedure, value);
      if (!this.prefixLengths.includes(procedure.length)) {
        this.prefixLengths.push(procedure.length);
        this.prefixLengths.sort((a, b) => b - a);
      }
    } else {
      const components = procedure.split(".");
      const weight = components.filter((c) => c !== "").length;
      this.wildcards.push({ value, components, weight, order: this.order++ });
      this.wildcards.sort((a, b) => b.weight - a.weight || a.order - b.order);
    }
  }

  delete(value: T): void {
    const { procedure, match } = value;
    if (match === "exact") {
      if (this.exact.get(procedure) === value) this.exact.delete(procedure);
    } else if (match === "prefix") {
      if (this.prefixes.get(procedure) !== value) return;
      this.prefixes.delete(procedure);
      let stillUsed = false;
      for (const p of this.prefixes.keys()) if (p.length === procedure.length) stillUsed = true;
      if (!stillUsed) this.prefixLengths = this.prefixLengths.filter((l) => l !== procedure.length);
    } else {
      this.wildcards = this.wildcards.filter((w) => w.value !== value);
    }
  }

  /** The registration that serves a call to `uri`, or undefined. */
  best(uri: string): T | undefined {
    const exact = this.exact.get(uri);
    if (exact !== undefined) return exact;
    for (const len of this.prefixLengths) {
      if (len > uri.length) continue;
      const p = this.prefixes.get(len === uri.length ? uri : uri.slice(0, len));
      if (p !== undefined) return p;
    }
    if (this.wildcards.length === 0) return undefined;
    const parts = uri.split(".");
    for (const w of this.wildcards) if (wildcardMatches(w.components, parts)) return w.value;
    return undefined;
  }

  /** Every registration that would match `uri`, one per policy at most, best first (meta API). */
  *values(): IterableIterator<T> {
    yield* this.exact.values();
    yield* this.prefixes.values();
    for (const w of this.wildcards) yield w.value;
  }
}

/** A wildcard pattern matches a URI of as many components where every non-empty one is equal. */
export function wildcardMatches(pattern: readonly string[], parts: readonly string[]): boolean {
  if (pattern.length !== parts.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p !== "" && p !== parts[i]) return false;
  }
  return true;
}
