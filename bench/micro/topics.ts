/**
 * Topic matching microbenchmarks: TopicTree with 100,000 subscriptions (exact filters, "+" and "#"
 * wildcards, a few hundred $SYS filters) and RetainedIndex with 100,000 retained topics.
 */
import { strictEqual } from "node:assert";
import { RetainedIndex } from "../../src/core/retained-index.js";
import { TopicTree } from "../../src/core/topic-tree.js";
import type { Bench, Runner } from "./harness.js";

/** Sites with exact device subscriptions; devices per site. 3,000 × 30 = 90,000 exact filters. */
const SITES = 3000;
const DEVICES = 30;
/** Sites with a `site/<s>/#` subscription; of those, sites with per-device `#` subscriptions. */
const HASH_SITES = 1000;
const DEVICE_HASH_SITES = 90;

/**
 * The 100,000 filters, one subscriber each:
 * - 90,000 exact `site/<s>/device/<d>/temp` (s < 3000, d < 30);
 * - 6,030 `+`: `site/<s>/device/+/hum` (3,000), `+/<s>/device/+/alarm` (3,000), `site/+/device/<d>/status` (30);
 * - 3,700 `#`: `site/<s>/#` (s < 1000), `site/<s>/device/<d>/#` (s < 90);
 * - 270 `$SYS`: `$SYS/broker/clients/<n>` (250), `$SYS/broker/load/<n>/#` (20).
 */
export function subscriptionFilters(): string[] {
  const f: string[] = [];
  for (let s = 0; s < SITES; s++) for (let d = 0; d < DEVICES; d++) f.push(`site/${s}/device/${d}/temp`);
  for (let s = 0; s < SITES; s++) f.push(`site/${s}/device/+/hum`, `+/${s}/device/+/alarm`);
  for (let d = 0; d < DEVICES; d++) f.push(`site/+/device/${d}/status`);
  for (let s = 0; s < HASH_SITES; s++) f.push(`site/${s}/#`);
  for (let s = 0; s < DEVICE_HASH_SITES; s++) {
    for (let d = 0; d < DEVICES; d++) f.push(`site/${s}/device/${d}/#`);
  }
  for (let n = 0; n < 250; n++) f.push(`$SYS/broker/clients/${n}`);
  for (let n = 0; n < 20; n++) f.push(`$SYS/broker/load/${n}/#`);
  strictEqual(f.length, 100_000);
  return f;
}

interface Sub {
  id: number;
}

let shared: TopicTree<Sub> | undefined;
/** One tree per process, built on first use (~0.2 s). */
function tree(): TopicTree<Sub> {
  if (shared === undefined) {
    shared = new TopicTree<Sub>();
    const filters = subscriptionFilters();
    for (let i = 0; i < filters.length; i++) shared.add(filters[i], { id: i });
  }
  return shared;
}

/** 1,024 distinct topics (so no single path stays hot in cache) from `make(i)`. */
function topics(make: (i: number) => string): string[] {
  return Array.from({ length: 1024 }, (_, i) => make(i));
}

interface MatchCase {
  slug: string;
  name: string;
  topics: string[];
  hits: number;
}

function matchCases(): MatchCase[] {
  const far = (i: number) => HASH_SITES + ((i * 7) % (SITES - HASH_SITES));
  return [
    {
      slug: "miss",
      name: "no match (`site/<s>/device/<d>/pressure`, walks 3 branches)",
      topics: topics((i) => `site/${far(i)}/device/${i % DEVICES}/pressure`),
      hits: 0,
    },
    {
      slug: "miss-shallow",
      name: "no match, unknown first level (`factory/<n>/line/<m>`)",
      topics: topics((i) => `factory/${i}/line/${i % 7}`),
      hits: 0,
    },
    {
      slug: "one",
      name: "1 match (`site/<s>/device/<d>/temp`, exact)",
      topics: topics((i) => `site/${far(i)}/device/${i % DEVICES}/temp`),
      hits: 1,
    },
    {
      slug: "several",
      name: "3 matches (exact + `site/<s>/#` + `site/<s>/device/<d>/#`)",
      topics: topics((i) => `site/${i % DEVICE_HASH_SITES}/device/${i % DEVICES}/temp`),
      hits: 3,
    },
    {
      slug: "several-plus",
      name: "3 matches, wildcards only (`+/<s>/device/+/alarm`, `site/<s>/#`, `site/<s>/device/<d>/#`)",
      topics: topics((i) => `site/${i % DEVICE_HASH_SITES}/device/${i % DEVICES}/alarm`),
      hits: 3,
    },
    {
      slug: "sys",
      name: "$SYS topic, 1 match (`$SYS/broker/clients/<n>`; leading wildcards skipped)",
      topics: topics((i) => `$SYS/broker/clients/${i % 250}`),
      hits: 1,
    },
  ];
}

function matchRunner(c: MatchCase): Runner {
  const t = tree();
  const list = c.topics;
  let hits = 0;
  const visit = (v: Sub) => {
    hits += v.id >= 0 ? 1 : 0;
  };
  const run: Runner = (iterations) => {
    hits = 0;
    for (let i = 0; i < iterations; i++) t.match(list[i & 1023], visit);
    return hits;
  };
  // Every topic of a case must have exactly the stated number of matches.
  for (const topic of list) {
    hits = 0;
    t.match(topic, visit);
    strictEqual(hits, c.hits, `${topic}: ${hits} matches, expected ${c.hits}`);
  }
  return run;
}

/** Filters not in the tree: 70% exact, 20% with `+`, 10% with `#`, spread over the sites. */
function newFilters(): string[] {
  return Array.from({ length: 4096 }, (_, i) => {
    const s = (i * 13) % SITES;
    const kind = i % 10;
    if (kind < 7) return `site/${s}/device/${i % DEVICES}/extra${i % 5}`;
    if (kind < 9) return `site/${s}/device/+/x${i % 3}`;
    return `site/${s}/x${i % 3}/#`;
  });
}

function addRemoveNew(): Runner {
  const t = tree();
  const filters = newFilters();
  const v: Sub = { id: -1 };
  const before = t.size;
  return (iterations) => {
    let ok = 0;
    for (let i = 0; i < iterations; i++) {
      const f = filters[i & 4095];
      if (t.add(f, v)) ok++;
      if (t.remove(f, v)) ok++;
    }
    strictEqual(t.size, before);
    return ok;
  };
}

/** A second subscriber on existing filters: no node is created or pruned, only the value list changes. */
function addRemoveExisting(): Runner {
  const t = tree();
  const all = subscriptionFilters();
  const filters = Array.from({ length: 4096 }, (_, i) => all[(i * 24_413) % all.length]);
  const v: Sub = { id: -2 };
  const before = t.size;
  return (iterations) => {
    let ok = 0;
    for (let i = 0; i < iterations; i++) {
      const f = filters[i & 4095];
      if (t.add(f, v)) ok++;
      if (t.remove(f, v)) ok++;
    }
    strictEqual(t.size, before);
    return ok;
  };
}

let sharedRetained: RetainedIndex<number> | undefined;
/** 100,000 retained topics `site/<s>/device/<d>/temp`, s < 1000, d < 100. */
function retained(): RetainedIndex<number> {
  if (sharedRetained === undefined) {
    sharedRetained = new RetainedIndex<number>();
    let n = 0;
    for (let s = 0; s < 1000; s++) {
      for (let d = 0; d < 100; d++) sharedRetained.set(`site/${s}/device/${d}/temp`, n++);
    }
  }
  return sharedRetained;
}

function retainedRunner(filter: string, expected: number): Runner {
  const idx = retained();
  let hits = 0;
  const visit = (_t: string, v: number) => {
    hits += v >= 0 ? 1 : 0;
  };
  idx.match(filter, visit);
  strictEqual(hits, expected, `${filter}: ${hits} retained matches, expected ${expected}`);
  return (iterations) => {
    hits = 0;
    for (let i = 0; i < iterations; i++) idx.match(filter, visit);
    return hits;
  };
}

export function topicBenches(): Bench[] {
  const benches: Bench[] = matchCases().map((c) => ({
    id: `topic/match-${c.slug}`,
    group: "topic",
    case: `TopicTree.match, 100k subs: ${c.name}`,
    impl: "",
    unit: "match",
    unitsPerOp: 1,
    note: `${c.hits} hit${c.hits === 1 ? "" : "s"}/call`,
    setup: () => matchRunner(c),
  }));
  benches.push(
    {
      id: "topic/add-remove-new",
      group: "topic",
      case: "TopicTree.add + remove, 100k subs: new filter (nodes created, pruned)",
      impl: "",
      unit: "add or remove",
      unitsPerOp: 2,
      setup: addRemoveNew,
    },
    {
      id: "topic/add-remove-existing",
      group: "topic",
      case: "TopicTree.add + remove, 100k subs: 2nd subscriber on an existing filter",
      impl: "",
      unit: "add or remove",
      unitsPerOp: 2,
      setup: addRemoveExisting,
    },
  );
  const retainedCases: Array<[string, string, number]> = [
    ["exact", "site/17/device/42/temp", 1],
    ["plus-last", "site/17/device/+/temp", 100],
    ["hash", "site/17/#", 100],
    ["plus-first", "site/+/device/42/temp", 1000],
    ["all", "#", 100_000],
  ];
  for (const [slug, filter, expected] of retainedCases) {
    benches.push({
      id: `retained/${slug}`,
      group: "retained",
      case: `RetainedIndex.match, 100k topics: \`${filter}\``,
      impl: "",
      unit: "match",
      unitsPerOp: 1,
      note: `${expected} hit${expected === 1 ? "" : "s"}/call`,
      setup: () => retainedRunner(filter, expected),
    });
  }
  return benches;
}
