/**
 * Secure by default: who may connect without credentials.
 *
 * - No users file: anonymous clients are allowed only when the broker listens on loopback
 *   (127.0.0.0/8, ::1, localhost); any other listen address needs an explicit `allowAnonymous: true`.
 *   `allowAnonymous: false` without a users file is refused: no client could ever connect.
 * - A users file: anonymous clients are refused unless `allowAnonymous: true`.
 * Whenever anonymous clients are allowed, `warning` holds the line the start-up log prints.
 */

import { isIPv4, isIPv6 } from "node:net";
import type { Config } from "./schema.js";

export interface AnonymousPolicy {
  allowAnonymous: boolean;
  /** Set when anonymous clients are allowed: the start-up log prints it. */
  warning?: string;
  /** Set when the combination is refused: start must fail with this message. */
  error?: string;
}

export function checkAnonymousPolicy(
  config: Pick<Config, "host" | "allowAnonymous"> & { auth: Pick<Config["auth"], "usersFile"> },
): AnonymousPolicy {
  const { host, allowAnonymous } = config;
  if (config.auth.usersFile !== undefined) {
    if (allowAnonymous === true) {
      return {
        allowAnonymous: true,
        warning: `anonymous clients are allowed (allowAnonymous: true) besides the users in the users file, listening on ${host}`,
      };
    }
    return { allowAnonymous: false };
  }
  if (allowAnonymous === false) {
    return {
      allowAnonymous: false,
      error:
        "allowAnonymous is false but no auth.usersFile is configured: no client could connect; " +
        "create one with `switchboard passwd FILE USER` and set auth.usersFile",
    };
  }
  if (allowAnonymous === true) {
    return {
      allowAnonymous: true,
      warning: isLoopback(host)
        ? `anonymous clients are allowed: no users file, listening on loopback ${host}`
        : `anonymous clients are allowed on ${host} (allowAnonymous: true) with no users file: anyone who can reach this address can connect`,
    };
  }
  if (isLoopback(host)) {
    return {
      allowAnonymous: true,
      warning: `anonymous clients are allowed: no users file, listening on loopback ${host} only`,
    };
  }
  return {
    allowAnonymous: false,
    error:
      `refusing to start: listening on ${host} (not loopback) with no users file would let anyone connect; ` +
      "configure auth.usersFile (see `switchboard passwd`) or set allowAnonymous: true (--allow-anonymous)",
  };
}

/** 127.0.0.0/8, ::1 (any spelling, also IPv4-mapped), "localhost". */
export function isLoopback(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIPv4(h)) return h.startsWith("127.");
  if (!isIPv6(h)) return false;
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return mapped[1].startsWith("127.");
  return expandIPv6(h) === "0000:0000:0000:0000:0000:0000:0000:0001";
}

function expandIPv6(h: string): string | undefined {
  const zone = h.indexOf("%");
  if (zone >= 0) h = h.slice(0, zone);
  if (h.includes(".")) return undefined;
  const [head, tail] = h.includes("::") ? h.split("::") : [h, undefined];
  const a = head ? head.split(":") : [];
  const b = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array(8 - a.length - b.length).fill("0");
  const all = [...a, ...fill, ...b];
  if (all.length !== 8) return undefined;
  return all.map((p) => p.padStart(4, "0")).join(":");
}
