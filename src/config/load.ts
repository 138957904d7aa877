/**
 * Loading and validation: defaults <- config file (YAML or JSON, by extension) <- command-line flags.
 * The validator is hand-written over CONFIG_SPEC; every error names the key path (or the flag) and why:
 * `mqtt.port: must be an integer 0-65535 or "off"`.
 */

import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import YAML from "yaml";
import { defaultConfig } from "./defaults.js";
import { CONFIG_SPEC, type Config, type FieldSpec, type SectionSpec } from "./schema.js";

export class ConfigError extends Error {
  override name = "ConfigError";
  /** The key path ("mqtt.port") or flag ("--mqtt-port") at fault, when there is one. */
  readonly key: string | undefined;
  constructor(key: string | undefined, reason: string) {
    super(key ? `${key}: ${reason}` : reason);
    this.key = key;
  }
}

/** One command-line setting: a config key path and the flag's raw value. */
export interface ConfigOverride {
  /** Key path in the config, e.g. "mqtt.port". */
  path: string;
  /** Raw value: a string as typed, or true for a boolean switch. */
  value: string | boolean;
  /** What to name in an error, e.g. "--mqtt-port". */
  source: string;
}

export interface ParsedArgs {
  /** --config FILE */
  configFile?: string;
  overrides: ConfigOverride[];
}

export interface LoadOptions {
  /** Check that configured files (users, ACL, TLS) are readable. Default true. */
  checkFiles?: boolean;
}

export async function loadConfig(args: ParsedArgs, options: LoadOptions = {}): Promise<Config> {
  let raw: unknown = {};
  let baseDir = process.cwd();
  if (args.configFile !== undefined) {
    const file = resolve(args.configFile);
    raw = await readConfigFile(file);
    baseDir = dirname(file);
  }
  const config = buildConfig(raw, args.overrides, baseDir);
  if (options.checkFiles !== false) await checkFilesReadable(config);
  return config;
}

/** Parses a config file's text. `file` chooses the format by extension and names errors. */
export function parseConfigText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === ".json") {
    try {
      return JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (err) {
      throw new ConfigError(undefined, `${file}: invalid JSON: ${(err as Error).message}`);
    }
  }
  if (ext === ".yaml" || ext === ".yml") {
    try {
      return YAML.parse(text) ?? {};
    } catch (err) {
      throw new ConfigError(undefined, `${file}: invalid YAML: ${(err as Error).message}`);
    }
  }
  throw new ConfigError(undefined, `${file}: config file name must end in .yaml, .yml or .json`);
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(
      undefined,
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  return parseConfigText(text, file);
}

/**
 * Validates a parsed config object and applies overrides over it, on top of the defaults.
 * Relative paths in `raw` are resolved against `baseDir`; in overrides against the working directory.
 */
export function buildConfig(raw: unknown, overrides: ConfigOverride[] = [], baseDir = process.cwd()): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const explicit = new Map<string, string>();
  applySection(config, raw, CONFIG_SPEC, "", baseDir, explicit);
  for (const o of overrides) applyOverride(config, o, explicit);
  const result = config as unknown as Config;
  checkCrossFields(result, explicit);
  return result;
}

/** Validates a full config object (no defaults filled in). */
export function validateConfig(raw: unknown, baseDir = process.cwd()): Config {
  return buildConfig(raw, [], baseDir);
}

function applySection(
  target: Record<string, unknown>,
  raw: unknown,
  spec: SectionSpec,
  prefix: string,
  baseDir: string,
  explicit: Map<string, string>,
): void {
  if (!isPlainObject(raw)) throw new ConfigError(prefix || undefined, "must be a mapping (object)");
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const field = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (!field) throw new ConfigError(path, `unknown key${suggest(key, Object.keys(spec))}`);
    if (field.kind === "section") {
      if (value === null || value === undefined) continue;
      applySection(target[key] as Record<string, unknown>, value, field.fields, path, baseDir, explicit);
      continue;
    }
    target[key] = coerce(field, value, false, path, baseDir);
    explicit.set(path, path);
  }
}

function applyOverride(
  config: Record<string, unknown>,
  o: ConfigOverride,
  explicit: Map<string, string>,
): void {
  const parts = o.path.split(".");
  let target = config;
  let spec: SectionSpec = CONFIG_SPEC;
  for (let i = 0; i < parts.length - 1; i++) {
    const field = spec[parts[i]];
    if (field?.kind !== "section") throw new ConfigError(o.source, `no config key ${o.path}`);
    spec = field.fields;
    target = target[parts[i]] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  const field = spec[last];
  if (!field || field.kind === "section") throw new ConfigError(o.source, `no config key ${o.path}`);
  target[last] = coerce(field, o.value, true, o.source, process.cwd());
  explicit.set(o.path, o.source);
}

/** Checks one value against its spec; `fromString` accepts the string forms a flag gives. */
function coerce(
  field: FieldSpec,
  value: unknown,
  fromString: boolean,
  name: string,
  baseDir: string,
): unknown {
  if ((value === null || value === undefined) && field.optional) return undefined;
  switch (field.kind) {
    case "port": {
      if (value === "off") return "off";
      const n = toInt(value, fromString);
      if (n === undefined || n < 0 || n > 65_535)
        throw new ConfigError(name, 'must be an integer 0-65535 or "off"');
      return n;
    }
    case "int": {
      const n = toInt(value, fromString);
      if (n === undefined || n < field.min || n > field.max)
        throw new ConfigError(name, `must be an integer ${field.min}-${field.max}`);
      return n;
    }
    case "bool":
      if (typeof value === "boolean") return value;
      if (fromString && (value === "true" || value === "false")) return value === "true";
      throw new ConfigError(name, "must be true or false");
    case "string":
      if (typeof value !== "string" || value.trim() === "")
        throw new ConfigError(name, "must be a non-empty string");
      return value.trim();
    case "path":
      if (typeof value !== "string" || value === "") throw new ConfigError(name, "must be a non-empty path");
      return resolve(baseDir, value);
    case "enum":
      if (typeof value === "string" && field.values.includes(value)) return value;
      throw new ConfigError(name, `must be one of ${field.values.map((v) => JSON.stringify(v)).join(", ")}`);
    case "names": {
      const list = fromString && typeof value === "string" ? value.split(",").map((v) => v.trim()) : value;
      if (!Array.isArray(list) || list.some((v) => typeof v !== "string" || v.trim() === ""))
        throw new ConfigError(name, "must be a list of non-empty strings");
      return list.map((v: string) => v.trim());
    }
    case "section":
      throw new ConfigError(name, "is a section, not a value");
  }
}

function toInt(value: unknown, fromString: boolean): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (fromString && typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function checkCrossFields(config: Config, explicit: Map<string, string>): void {
  const { tls } = config;
  if (tls.cert !== undefined && tls.key === undefined)
    throw new ConfigError("tls.key", "required when tls.cert is set");
  if (tls.key !== undefined && tls.cert === undefined)
    throw new ConfigError("tls.cert", "required when tls.key is set");
  const tlsPortSource = explicit.get("mqtt.tlsPort");
  if (tlsPortSource !== undefined && config.mqtt.tlsPort !== "off" && tls.cert === undefined)
    throw new ConfigError(tlsPortSource, "needs tls.cert and tls.key to be configured");
  const httpsSource = explicit.get("http.tlsPort");
  if (httpsSource !== undefined && config.http.tlsPort !== "off" && tls.cert === undefined)
    throw new ConfigError(httpsSource, "needs tls.cert and tls.key to be configured");
  const stompTlsSource = explicit.get("stomp.tlsPort");
  if (stompTlsSource !== undefined && config.stomp.tlsPort !== "off" && tls.cert === undefined)
    throw new ConfigError(stompTlsSource, "needs tls.cert and tls.key to be configured");
  const amqpsPortSource = explicit.get("amqp.tlsPort");
  if (amqpsPortSource !== undefined && config.amqp.tlsPort !== "off" && tls.cert === undefined)
    throw new ConfigError(amqpsPortSource, "needs tls.cert and tls.key to be configured");
}

async function checkFilesReadable(config: Config): Promise<void> {
  const files: Array<[string, string | undefined]> = [
    ["auth.usersFile", config.auth.usersFile],
    ["auth.aclFile", config.auth.aclFile],
    ["auth.wampcraFile", config.auth.wampcraFile],
    ["tls.cert", config.tls.cert],
    ["tls.key", config.tls.key],
    ["tls.ca", config.tls.ca],
  ];
  for (const [key, file] of files) {
    if (file === undefined) continue;
    try {
      await access(file, constants.R_OK);
    } catch (err) {
      throw new ConfigError(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** ` (did you mean "port"?)` when a known key is within two edits. */
function suggest(key: string, known: string[]): string {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
