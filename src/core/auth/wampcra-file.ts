/**
 * The WAMP-CRA secrets file: the keys the router signs WAMP-CRA challenges with (docs/wamp.md).
 * Only salted secrets are stored, never the secret itself:
 *
 *   # authid:role:$wampcra$<iterations>$<keylen>$<salt>$<derived key, base64>
 *   alice:user:$wampcra$1000$32$5a1t$u0W3...=
 *
 * The derived key is PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen) in Base64, exactly what a
 * client computes from its secret (autobahn's auth_cra.derive_key); the HMAC of a challenge is keyed
 * with that Base64 text. `switchboard wampcra FILE AUTHID [ROLE]` writes a line.
 */
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ChallengeSecret } from "../auth.js";

export class WampCraFileError extends Error {
  override name = "WampCraFileError";
}

export const WAMPCRA_ITERATIONS = 1000;
export const WAMPCRA_KEYLEN = 32;

/** The derived key of WAMP-CRA with salted secrets (WAMP §13.7.2.3 "Salted Secrets"). */
export function deriveWampCraKey(secret: string, salt: string, iterations: number, keylen: number): string {
  return pbkdf2Sync(secret, salt, iterations, keylen, "sha256").toString("base64");
}

/** One file line for `authid` with a fresh salt. */
export function wampCraLine(authid: string, role: string, secret: string): string {
  const salt = randomBytes(12).toString("base64url");
  const key = deriveWampCraKey(secret, salt, WAMPCRA_ITERATIONS, WAMPCRA_KEYLEN);
  return `${authid}:${role}:$wampcra$${WAMPCRA_ITERATIONS}$${WAMPCRA_KEYLEN}$${salt}$${key}`;
}

export function parseWampCraFile(text: string, source = "WAMP-CRA file"): Map<string, ChallengeSecret> {
  const out = new Map<string, ChallengeSecret>();
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const m = /^([^:]+):([^:]+):\$wampcra\$(\d{1,7})\$(\d{1,4})\$([^$]+)\$([A-Za-z0-9+/=]+)$/.exec(line);
      if (!m)
        throw new WampCraFileError(
          `${source}:${i + 1}: expected authid:role:$wampcra$ITERATIONS$KEYLEN$SALT$KEY`,
        );
      const [, authid, role, iterations, keylen, salt, key] = m;
      out.set(authid!, {
        key: Buffer.from(key!, "utf8"),
        role: role!,
        salt: salt!,
        iterations: Number(iterations),
        keylen: Number(keylen),
      });
    });
  return out;
}

export async function readWampCraFile(file: string): Promise<Map<string, ChallengeSecret>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new WampCraFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  return parseWampCraFile(text, file);
}
