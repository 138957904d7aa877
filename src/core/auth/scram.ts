/**
 * What SCRAM (RFC 5802, RFC 7677) needs stored per user: salt, iteration count, StoredKey and
 * ServerKey for one hash. Kept in the users file after the scrypt hash, as
 * `$scram-sha-256$i=4096$<salt>$<StoredKey>$<ServerKey>` (base64), one entry per hash
 * (docs/security.md). The password itself cannot be recovered from them.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

export type ScramHash = "sha1" | "sha256";

export interface ScramCredentials {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export const SCRAM_ITERATIONS = 4096;
const PREFIX: Record<ScramHash, string> = { sha1: "$scram-sha-1$", sha256: "$scram-sha-256$" };
const KEY_LEN: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

export function deriveScram(
  password: Buffer,
  hash: ScramHash,
  salt = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): ScramCredentials {
  const salted = pbkdf2Sync(password, salt, iterations, KEY_LEN[hash], hash);
  const clientKey = createHmac(hash, salted).update("Client Key").digest();
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update("Server Key").digest(),
  };
}

export function formatScram(hash: ScramHash, c: ScramCredentials): string {
  const b = (x: Buffer) => x.toString("base64");
  return `${PREFIX[hash]}i=${c.iterations}$${b(c.salt)}$${b(c.storedKey)}$${b(c.serverKey)}`;
}

/** The entries of both hashes for a password (what `switchboard passwd` writes). */
export function scramEntries(password: Buffer): string {
  return `${formatScram("sha1", deriveScram(password, "sha1"))} ${formatScram("sha256", deriveScram(password, "sha256"))}`;
}

/** Parses one `$scram-...` entry; undefined when malformed. */
export function parseScram(entry: string): { hash: ScramHash; creds: ScramCredentials } | undefined {
  const m =
    /^\$scram-(sha-1|sha-256)\$i=(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(
      entry,
    );
  if (!m) return undefined;
  const hash: ScramHash = m[1] === "sha-1" ? "sha1" : "sha256";
  const iterations = Number(m[2]);
  const creds = {
    salt: Buffer.from(m[3]!, "base64"),
    iterations,
    storedKey: Buffer.from(m[4]!, "base64"),
    serverKey: Buffer.from(m[5]!, "base64"),
  };
  if (
    iterations < 1 ||
    creds.storedKey.length !== KEY_LEN[hash] ||
    creds.serverKey.length !== KEY_LEN[hash]
  ) {
    return undefined;
  }
  return { hash, creds };
}
