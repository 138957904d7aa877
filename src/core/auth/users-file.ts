/**
 * The users file: one `user:hash` per line; blank lines and lines starting with `#` are comments and
 * are kept when the file is rewritten. The hash is
 * `$scrypt$N=16384,r=8,p=1$<salt base64>$<key base64>` (node:crypto scrypt, random 16-byte salt,
 * 32-byte key). Managed with `switchboard passwd FILE USER` (see docs/security.md).
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseScram, type ScramCredentials, type ScramHash } from "./scram.js";

const SCRYPT_N = 16_384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on the parameters a stored hash may ask for, so a tampered file cannot exhaust memory. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

export class UsersFileError extends Error {
  override name = "UsersFileError";
}

interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function scryptAsync(password: Buffer, salt: Buffer, h: Omit<ScryptHash, "salt" | "key">, len: number) {
  return new Promise<Buffer>((resolve, reject) => {
    const maxmem = 128 * h.N * h.r * h.p + 64 * 1024 * 1024;
    scrypt(password, salt, len, { N: h.N, r: h.r, p: h.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string | Buffer): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const params = { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P };
  const key = await scryptAsync(toBuffer(password), salt, params, KEY_BYTES);
  return `$scrypt$N=${SCRYPT_N},r=${SCRYPT_R},p=${SCRYPT_P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** True when `password` matches `hash`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string | Buffer, hash: string): Promise<boolean> {
  const h = parseHash(hash);
  if (!h) return false;
  const key = await scryptAsync(toBuffer(password), h.salt, h, h.key.length);
  return timingSafeEqual(key, h.key);
}

/** Parses `$scrypt$N=..,r=..,p=..$salt$key`; undefined when malformed or out of bounds. */
export function parseHash(hash: string): ScryptHash | undefined {
  const m =
    /^\$scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(
      hash,
    );
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  const salt = Buffer.from(m[4], "base64");
  const key = Buffer.from(m[5], "base64");
  if (salt.length < 8 || key.length < 16 || key.length > 128) return undefined;
  return { N, r, p, salt, key };
}

function toBuffer(p: string | Buffer): Buffer {
  return typeof p === "string" ? Buffer.from(p, "utf8") : p;
}

/** Why `name` cannot be a user name, or undefined when it can. */
export function invalidUserName(name: string): string | undefined {
  if (name === "") return "user name is empty";
  if (name.includes(":")) return "user name must not contain ':'";
  if (name.startsWith("#")) return "user name must not start with '#'";
  if (/[\s\u0000-\u001f\u007f]/.test(name)) return "user name must not contain spaces or control characters";
  if (Buffer.byteLength(name) > 65_535) return "user name is too long";
  return undefined;
}

/** `extra`: what follows the scrypt hash on the line (SCRAM entries, see scram.ts), kept as is. */
type Line = { kind: "text"; text: string } | { kind: "user"; name: string; hash: string; extra?: string };

/** The parsed file, comments and order kept, so `passwd` rewrites it without losing anything. */
export class UsersFile {
  private readonly lines: Line[];

  private constructor(lines: Line[]) {
    this.lines = lines;
  }

  static empty(): UsersFile {
    return new UsersFile([]);
  }

  /** Parses the text; a malformed line is an error naming `source:line`. */
  static parse(text: string, source = "users file"): UsersFile {
    const lines: Line[] = [];
    const seen = new Set<string>();
    const raw = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
    raw.forEach((text, i) => {
      const trimmed = text.trim();
      if (trimmed === "" || trimmed.startsWith("#")) {
        lines.push({ kind: "text", text });
        return;
      }
      const colon = trimmed.indexOf(":");
      const where = `${source}:${i + 1}`;
      if (colon < 0) throw new UsersFileError(`${where}: expected user:hash`);
      const name = trimmed.slice(0, colon);
      // The scrypt hash, optionally followed by SCRAM entries separated by spaces (scram.ts).
      const [hash = "", ...more] = trimmed.slice(colon + 1).split(/\s+/);
      for (const entry of more) {
        if (!parseScram(entry))
          throw new UsersFileError(`${source}:${i + 1}: unrecognised SCRAM entry for user ${name}`);
      }
      const bad = invalidUserName(name);
      if (bad) throw new UsersFileError(`${where}: ${bad}`);
      if (!parseHash(hash)) throw new UsersFileError(`${where}: unrecognised password hash for user ${name}`);
      if (seen.has(name)) throw new UsersFileError(`${where}: user ${name} appears twice`);
      seen.add(name);
      lines.push({ kind: "user", name, hash, extra: more.length > 0 ? more.join(" ") : undefined });
    });
    return new UsersFile(lines);
  }

  get(name: string): string | undefined {
    for (const l of this.lines) if (l.kind === "user" && l.name === name) return l.hash;
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Adds the user, or replaces the hash (and SCRAM entries, `extra`) of an existing one in place. */
  set(name: string, hash: string, extra?: string): void {
    const bad = invalidUserName(name);
    if (bad) throw new UsersFileError(bad);
    for (const l of this.lines) {
      if (l.kind === "user" && l.name === name) {
        l.hash = hash;
        l.extra = extra;
        return;
      }
    }
    this.lines.push({ kind: "user", name, hash, extra });
  }

  /** user name -> hash -> SCRAM credentials, for the users that have them. */
  scram(): Map<string, Map<ScramHash, ScramCredentials>> {
    const m = new Map<string, Map<ScramHash, ScramCredentials>>();
    for (const l of this.lines) {
      if (l.kind !== "user" || !l.extra) continue;
      const byHash = new Map<ScramHash, ScramCredentials>();
      for (const entry of l.extra.split(" ")) {
        const p = parseScram(entry);
        if (p) byHash.set(p.hash, p.creds);
      }
      m.set(l.name, byHash);
    }
    return m;
  }

  /** Removes the user; false when there was none. */
  delete(name: string): boolean {
    const i = this.lines.findIndex((l) => l.kind === "user" && l.name === name);
    if (i < 0) return false;
    this.lines.splice(i, 1);
    return true;
  }

  /** user name -> hash. */
  users(): Map<string, string> {
    const m = new Map<string, string>();
    for (const l of this.lines) if (l.kind === "user") m.set(l.name, l.hash);
    return m;
  }

  toString(): string {
    return `${this.lines.map((l) => (l.kind === "text" ? l.text : `${l.name}:${l.hash}${l.extra ? ` ${l.extra}` : ""}`)).join("\n")}\n`;
  }
}

export async function readUsersFile(path: string): Promise<UsersFile> {
  return UsersFile.parse(await readFile(path, "utf8"), path);
}

/** Writes atomically (temp file in the same directory, then rename), mode 0600. */
export async function writeUsersFile(path: string, file: UsersFile): Promise<void> {
  await writeFileAtomic(path, file.toString(), 0o600);
}

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, data, { mode, flag: "wx" });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
