/**
 * Command-line flags of `switchboard start`, mapped to config key paths. A config section with a
 * `port` field gets `--<section>-port` automatically, so a new protocol section needs no change here.
 */

import { DEFAULT_CONFIG } from "../config/defaults.js";
import type { ParsedArgs } from "../config/load.js";
import { CONFIG_SPEC } from "../config/schema.js";

/** Bad usage: the message names the flag; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagDef {
  flag: string;
  /** Config key path; undefined for --config. */
  path?: string;
  /** A switch takes no value (`--allow-anonymous`, or `--allow-anonymous=false`). */
  switch?: boolean;
  /** For --help. */
  arg?: string;
  help: string;
}

export function startFlags(): FlagDef[] {
  const flags: FlagDef[] = [
    { flag: "--config", arg: "FILE", help: "config file (.yaml, .yml or .json); flags override it" },
    { flag: "--host", path: "host", arg: "ADDR", help: "listen address (default 127.0.0.1)" },
    { flag: "--data-dir", path: "dataDir", arg: "DIR", help: "where state is kept (default ./data)" },
    { flag: "--store", path: "store", arg: "sqlite|memory", help: "session/queue store (default sqlite)" },
  ];
  for (const [name, field] of Object.entries(CONFIG_SPEC)) {
    if (field.kind !== "section" || !("port" in field.fields)) continue;
    const def = (DEFAULT_CONFIG as unknown as Record<string, { port?: unknown }>)[name]?.port;
    flags.push({
      flag: `--${kebab(name)}-port`,
      path: `${name}.port`,
      arg: "N|off",
      help: `${name.toUpperCase()} listener port (default ${def})`,
    });
    // Every section with a tlsPort gets its TLS flag too (named as the protocol's own TLS variant).
    const tls = TLS_FLAGS[name];
    const tlsDefault = (DEFAULT_CONFIG as unknown as Record<string, { tlsPort?: unknown }>)[name]?.tlsPort;
    if (tls !== undefined && "tlsPort" in field.fields) {
      flags.push({
        flag: tls.flag,
        path: `${name}.tlsPort`,
        arg: "N|off",
        help: `${tls.what} port (default ${tlsDefault}, when tls.cert and tls.key are set)`,
      });
    }
  }
  flags.push(
    { flag: "--log-level", path: "logLevel", arg: "LEVEL", help: "error, warn, info (default) or debug" },
    {
      flag: "--allow-anonymous",
      path: "allowAnonymous",
      switch: true,
      help: "allow clients without credentials on any address",
    },
  );
  return flags;
}

/** The TLS listener flag of each section that has one. */
const TLS_FLAGS: Readonly<Record<string, { flag: string; what: string }>> = {
  mqtt: { flag: "--mqtts-port", what: "MQTT over TLS" },
  http: { flag: "--https-port", what: "HTTPS / wss" },
  stomp: { flag: "--stomps-port", what: "STOMP over TLS" },
  amqp: { flag: "--amqps-port", what: "AMQP over TLS" },
  xmpp: { flag: "--xmpps-port", what: "XMPP direct TLS" },
};

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses `start`'s arguments: `--flag value` or `--flag=value`. Values are checked by loadConfig. */
export function parseStartArgs(argv: readonly string[]): ParsedArgs {
  const defs = new Map(startFlags().map((d) => [d.flag, d]));
  const out: ParsedArgs = { overrides: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const def = defs.get(flag);
    if (!def) throw new UsageError(`unknown option ${flag}`);
    let value: string | boolean;
    if (def.switch) {
      value = eq < 0 ? true : arg.slice(eq + 1);
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--"))
        throw new UsageError(`${flag}: needs a value (${def.arg})`);
      value = next;
      i++;
    }
    if (def.path === undefined) out.configFile = String(value);
    else out.overrides.push({ path: def.path, value, source: flag });
  }
  return out;
}
