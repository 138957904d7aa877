export { DEFAULT_CONFIG, defaultConfig } from "./defaults.js";
export {
  buildConfig,
  ConfigError,
  type ConfigOverride,
  type LoadOptions,
  loadConfig,
  type ParsedArgs,
  parseConfigText,
  validateConfig,
} from "./load.js";
export { type AnonymousPolicy, checkAnonymousPolicy, isLoopback } from "./policy.js";
export * from "./schema.js";
