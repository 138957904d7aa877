export * from "./dealer.js";
export { type MatchPolicy, PatternRegistry, wildcardMatches } from "./registry.js";
