/**
 * The ACL file: one rule per line, evaluated in order, the first matching rule decides; when no rule
 * matches the answer is deny. (Without an ACL file at all, everything is allowed.)
 *
 *   # allow|deny  user|client|anonymous|any  <name-pattern>  <actions>  <topic filter>
 *   allow user   alice  all                sensors/#
 *   allow any    *      subscribe          $SYS/#
 *   allow client dev-*  publish,subscribe  devices/%c/#
 *   deny  any    *      all                #
 *
 * - subject: `user` matches the authenticated user name, `client` the client id, `anonymous` every
 *   anonymous client, `any` every client (the pattern of `anonymous` and `any` must be `*`).
 * - name pattern: `*` matches any run of characters, `?` one character; anything else is literal.
 * - actions: publish, subscribe, call, register or all; several joined with commas.
 * - topic filter (the rest of the line): MQTT form with `+` and `#` (whole levels only); `%u` is replaced by the user name and
 *   `%c` by the client id. A rule with `%u` never matches an anonymous client, and a rule whose
 *   substituted value would be empty or contain `/`, `+` or `#` does not match.
 *   For call and register the name is a procedure URI and `.` separates its levels
 *   (`allow user svc register com.example.#`); a filter only valid one way applies only that way.
 *   A leading wildcard does not match `$` topics (`#` does not cover `$SYS/...`): name them.
 * - publish/call/register: the rule matches when its filter matches the topic or procedure.
 *   subscribe: the rules are applied to the set of topics the subscription filter can match. A
 *   subscription is refused when no topic of it is allowed; it is accepted when some are, and then
 *   the broker checks each message's topic against the rules before delivering it, so a broad
 *   subscription cannot reach around a narrower deny (`deny ... sensors/secret/#` then
 *   `allow ... sensors/#`: `sensors/#` is accepted but never delivers `sensors/secret/x`), as
 *   Mosquitto does with its per-message read check. A `$share/<group>/` prefix is removed first.
 */

import { readFile } from "node:fs/promises";
import type { Action, Principal, SubscribeScope } from "../auth.js";
import { filterCovers, filterMatches, filtersOverlap, invalidFilter } from "./topic-filter.js";

export class AclError extends Error {
  override name = "AclError";
}

type Subject = "user" | "client" | "anonymous" | "any";

export interface AclRule {
  allow: boolean;
  subject: Subject;
  /** undefined = matches every name. */
  name: RegExp | undefined;
  actions: ReadonlySet<Action>;
  /** The filter as written. */
  filter: string;
  /** True when it holds %u or %c and must be expanded per principal. */
  templated: boolean;
  /** Pre-split levels for each separator; undefined when the filter is not valid split that way. */
  slashLevels: string[] | undefined;
  dotLevels: string[] | undefined;
  line: number;
}

const ACTIONS: readonly Action[] = ["publish", "subscribe", "call", "register"];
const SUBJECTS: readonly Subject[] = ["user", "client", "anonymous", "any"];

export function parseAcl(text: string, source = "ACL file"): AclRule[] {
  const rules: AclRule[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      rules.push(parseRule(line, `${source}:${i + 1}`, i + 1));
    });
  return rules;
}

function parseRule(line: string, where: string, lineNo: number): AclRule {
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$/.exec(line);
  if (!m) throw new AclError(`${where}: expected "allow|deny user|client|anonymous|any NAME ACTIONS FILTER"`);
  const [, verdict, subject, pattern, actionList, filter] = m;
  if (verdict !== "allow" && verdict !== "deny")
    throw new AclError(`${where}: first word must be allow or deny, not "${verdict}"`);
  if (!SUBJECTS.includes(subject as Subject))
    throw new AclError(`${where}: unknown subject "${subject}" (expected ${SUBJECTS.join(", ")})`);
  if ((subject === "any" || subject === "anonymous") && pattern !== "*")
    throw new AclError(`${where}: the name pattern of "${subject}" must be *`);
  const actions = new Set<Action>();
  for (const a of actionList.split(",")) {
    if (a === "all") for (const x of ACTIONS) actions.add(x);
    else if (ACTIONS.includes(a as Action)) actions.add(a as Action);
    else throw new AclError(`${where}: unknown action "${a}" (expected ${ACTIONS.join(", ")} or all)`);
  }
  const slashLevels = filter.split("/");
  const dotLevels = filter.split(".");
  const bad = invalidFilter(slashLevels);
  const badDots = invalidFilter(dotLevels);
  if (bad && badDots) throw new AclError(`${where}: bad topic filter "${filter}": ${bad}`);
  const templated = filter.includes("%u") || filter.includes("%c");
  return {
    allow: verdict === "allow",
    subject: subject as Subject,
    name: pattern === "*" ? undefined : globToRegExp(pattern),
    actions,
    filter,
    templated,
    slashLevels: bad ? undefined : slashLevels,
    dotLevels: badDots ? undefined : dotLevels,
    line: lineNo,
  };
}

function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (const ch of glob) {
    if (ch === "*") re += "[\\s\\S]*";
    else if (ch === "?") re += "[\\s\\S]";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`${re}$`, "u");
}

function subjectMatches(rule: AclRule, p: Principal): boolean {
  switch (rule.subject) {
    case "any":
      return true;
    case "anonymous":
      return p.anonymous;
    case "user":
      return (
        p.username !== undefined && !p.anonymous && (rule.name === undefined || rule.name.test(p.username))
      );
    case "client":
      return rule.name === undefined || rule.name.test(p.clientId);
  }
}

/** A value that cannot be put into a topic filter without changing its meaning. */
const unsafeSubstitution = (v: string): boolean =>
  v === "" || v.includes("/") || v.includes("+") || v.includes("#") || v.includes("\u0000");

/** The rule's filter levels for this principal and separator; undefined when the rule cannot apply. */
function ruleLevels(rule: AclRule, p: Principal, sep: "/" | "."): string[] | undefined {
  if (!rule.templated) return sep === "/" ? rule.slashLevels : rule.dotLevels;
  let unusable = false;
  const expanded = rule.filter.replace(/%[uc]/g, (t) => {
    const v = t === "%u" ? (p.anonymous ? undefined : p.username) : p.clientId;
    if (v === undefined || unsafeSubstitution(v) || (sep === "." && v.includes("."))) unusable = true;
    return v ?? "";
  });
  if (unusable) return undefined;
  const levels = expanded.split(sep);
  return invalidFilter(levels) ? undefined : levels;
}

/** Strips `$share/<group>/` from a subscription filter. */
function stripShare(filter: string): string {
  if (!filter.startsWith("$share/")) return filter;
  const slash = filter.indexOf("/", 7);
  return slash < 0 ? filter : filter.slice(slash + 1);
}

/**
 * Which topics of a subscription filter the rules allow: "all" (no per-message check needed),
 * "some" (accept, and check each message's topic), or "none" (refuse). Rules are applied in order:
 * the first rule that covers the whole filter decides the rest; rules that cover only part of it
 * before that make the answer "some".
 */
export function evaluateSubscribeScope(
  rules: readonly AclRule[],
  p: Principal,
  filter: string,
): SubscribeScope {
  const levels = stripShare(filter).split("/");
  let partlyAllowed = false;
  let partlyDenied = false;
  for (const rule of rules) {
    if (!rule.actions.has("subscribe") || !subjectMatches(rule, p)) continue;
    const ruleFilter = ruleLevels(rule, p, "/");
    if (!ruleFilter) continue;
    if (filterCovers(ruleFilter, levels)) {
      if (rule.allow) return partlyDenied ? "some" : "all";
      return partlyAllowed ? "some" : "none";
    }
    if (filtersOverlap(ruleFilter, levels)) {
      if (rule.allow) partlyAllowed = true;
      else partlyDenied = true;
    }
  }
  return partlyAllowed ? "some" : "none";
}

/** Evaluates the rules (no caching; see Acl for the cached form). */
export function evaluateAcl(rules: readonly AclRule[], p: Principal, action: Action, topic: string): boolean {
  // For subscribe, a filter is allowed when any of its topics is (see evaluateSubscribeScope).
  if (action === "subscribe") return evaluateSubscribeScope(rules, p, topic) !== "none";
  const sep = action === "call" || action === "register" ? "." : "/";
  const levels = topic.split(sep);
  for (const rule of rules) {
    if (!rule.actions.has(action) || !subjectMatches(rule, p)) continue;
    const filter = ruleLevels(rule, p, sep);
    if (!filter) continue;
    if (filterMatches(filter, levels)) return rule.allow;
  }
  return false;
}

/** Decisions per principal object and action, bounded; a principal lives as long as its connection. */
const CACHE_LIMIT = 1024;

/**
 * The ACL with a decision cache: `authorize` is called on every publish, so a repeated
 * (principal, action, topic) is one WeakMap and one Map lookup, with no allocation.
 */
export class Acl {
  readonly rules: readonly AclRule[];
  private cache = new WeakMap<Principal, Map<string, boolean>[]>();

  constructor(rules: readonly AclRule[]) {
    this.rules = rules;
  }

  static parse(text: string, source?: string): Acl {
    return new Acl(parseAcl(text, source));
  }

  static async load(path: string): Promise<Acl> {
    return Acl.parse(await readFile(path, "utf8"), path);
  }

  /** Subscribe-time only (not cached): see evaluateSubscribeScope. */
  subscribeScope(p: Principal, filter: string): SubscribeScope {
    return evaluateSubscribeScope(this.rules, p, filter);
  }

  check(p: Principal, action: Action, topic: string): boolean {
    let perAction = this.cache.get(p);
    if (!perAction) {
      perAction = [new Map(), new Map(), new Map(), new Map()];
      this.cache.set(p, perAction);
    }
    const map = perAction[ACTION_INDEX[action]];
    const hit = map.get(topic);
    if (hit !== undefined) return hit;
    const decision = evaluateAcl(this.rules, p, action, topic);
    if (map.size >= CACHE_LIMIT) map.delete(map.keys().next().value as string);
    map.set(topic, decision);
    return decision;
  }
}

const ACTION_INDEX: Record<Action, number> = { publish: 0, subscribe: 1, call: 2, register: 3 };
