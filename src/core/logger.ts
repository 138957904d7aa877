/**
 * A tiny structured logger: one line per event on stderr,
 * `2025-01-01T12:00:00.000Z INFO  message key=value key="two words"`.
 * A disabled level is a no-op function, so `log.debug(...)` costs one call when debug is off.
 */

export type LogLevel = "error" | "warn" | "info" | "debug";

export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

/** Where lines go; defaults to process.stderr. */
export interface LogSink {
  write(line: string): unknown;
}

const noop = (): void => {};

/** A logger that drops everything (tests, embedding). */
export const nullLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };

export function createLogger(level: LogLevel = "info", sink: LogSink = process.stderr): Logger {
  const max = LOG_LEVELS.indexOf(level);
  const make = (l: LogLevel): ((msg: string, fields?: LogFields) => void) => {
    if (LOG_LEVELS.indexOf(l) > max) return noop;
    const tag = l.toUpperCase().padEnd(5);
    return (msg, fields) => {
      sink.write(`${new Date().toISOString()} ${tag} ${msg}${fields ? formatFields(fields) : ""}\n`);
    };
  };
  return { error: make("error"), warn: make("warn"), info: make("info"), debug: make("debug") };
}

function formatFields(fields: LogFields): string {
  let out = "";
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    out += ` ${key}=${formatValue(value)}`;
  }
  return out;
}

function formatValue(value: unknown): string {
  let s: string;
  if (typeof value === "string") s = value;
  else if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  else if (value === null) return "null";
  else if (value instanceof Error) s = value.message;
  else if (Buffer.isBuffer(value)) return value.toString("hex");
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s !== "" && /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}
