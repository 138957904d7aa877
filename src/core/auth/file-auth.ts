/**
 * Auth from files: the users file (authentication), the ACL file (authorization) and the anonymous
 * policy (config/policy.ts). See docs/security.md.
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { checkAnonymousPolicy } from "../../config/policy.js";
import type { Config } from "../../config/schema.js";
import type {
  Action,
  Auth,
  AuthResult,
  ChallengeSecret,
  Credentials,
  Principal,
  SubscribeScope,
} from "../auth.js";
import { Acl } from "./acl.js";
import type { ScramCredentials, ScramHash } from "./scram.js";
import { hashPassword, readUsersFile, verifyPassword } from "./users-file.js";
import { readWampCraFile } from "./wampcra-file.js";

export interface FileAuthOptions {
  /** user name -> scrypt hash; undefined = no users file. */
  users?: ReadonlyMap<string, string>;
  /** user name -> SCRAM keys by hash (the users file's optional SCRAM entries). */
  scram?: ReadonlyMap<string, ReadonlyMap<ScramHash, ScramCredentials>>;
  /** undefined = no ACL file: everything is allowed. */
  acl?: Acl;
  allowAnonymous: boolean;
  /** WAMP-CRA keys by authid; undefined = no WAMP-CRA file. */
  challengeSecrets?: ReadonlyMap<string, ChallengeSecret>;
  /** Files to re-read on reload(). */
  usersFile?: string;
  aclFile?: string;
  wampcraFile?: string;
}

/** Verified passwords are remembered as an HMAC under a per-process key, so reconnects skip scrypt. */
const VERIFIED_LIMIT = 10_000;

export class FileAuth implements Auth {
  private users: ReadonlyMap<string, string> | undefined;
  private scram: ReadonlyMap<string, ReadonlyMap<ScramHash, ScramCredentials>> | undefined;
  private acl: Acl | undefined;
  private readonly allowAnonymous: boolean;
  private readonly usersFile: string | undefined;
  private readonly aclFile: string | undefined;
  private secrets: ReadonlyMap<string, ChallengeSecret> | undefined;
  private readonly wampcraFile: string | undefined;
  private readonly macKey = randomBytes(32);
  private verified = new Map<string, Buffer>();
  /** Verified against for unknown users, so their answer takes as long as a known user's. */
  private dummyHash: Promise<string> | undefined;

  constructor(options: FileAuthOptions) {
    this.users = options.users;
    this.scram = options.scram;
    this.acl = options.acl;
    this.allowAnonymous = options.allowAnonymous;
    this.usersFile = options.usersFile;
    this.aclFile = options.aclFile;
    this.secrets = options.challengeSecrets;
    this.wampcraFile = options.wampcraFile;
  }

  async challengeSecret(username: string): Promise<ChallengeSecret | undefined> {
    return this.secrets?.get(username);
  }

  async authenticate(c: Credentials): Promise<AuthResult> {
    const users = this.users;
    if (c.username === undefined || users === undefined) {
      // No user name, or no users file to check one against: an anonymous client.
      if (!this.allowAnonymous) return { ok: false, reason: "not-authorized" };
      return { ok: true, principal: { clientId: c.clientId, protocol: c.protocol, anonymous: true } };
    }
    const hash = users.get(c.username);
    const password = c.password ?? Buffer.alloc(0);
    if (hash === undefined) {
      this.dummyHash ??= hashPassword(randomBytes(16));
      await verifyPassword(password, await this.dummyHash);
      return { ok: false, reason: "bad-credentials" };
    }
    if (!(await this.check(c.username, hash, password))) return { ok: false, reason: "bad-credentials" };
    return {
      ok: true,
      principal: { username: c.username, clientId: c.clientId, protocol: c.protocol, anonymous: false },
    };
  }

  authorize(principal: Principal, action: Action, topic: string): boolean {
    return this.acl === undefined || this.acl.check(principal, action, topic);
  }

  subscribeScope(principal: Principal, filter: string): SubscribeScope {
    return this.acl === undefined ? "all" : this.acl.subscribeScope(principal, filter);
  }

  async scramCredentials(username: string, hash: ScramHash): Promise<ScramCredentials | undefined> {
    return this.scram?.get(username)?.get(hash);
  }

  /** Re-reads the users and ACL files (e.g. on SIGHUP). On error the old state is kept and it throws. */
  async reload(): Promise<void> {
    const file = this.usersFile !== undefined ? await readUsersFile(this.usersFile) : undefined;
    const acl = this.aclFile !== undefined ? await Acl.load(this.aclFile) : this.acl;
    const secrets = this.wampcraFile !== undefined ? await readWampCraFile(this.wampcraFile) : this.secrets;
    this.secrets = secrets;
    this.users = file ? file.users() : this.users;
    this.scram = file ? file.scram() : this.scram;
    this.acl = acl;
    this.verified = new Map();
  }

  private async check(user: string, hash: string, password: Buffer): Promise<boolean> {
    const mac = createHmac("sha256", this.macKey).update(hash).update("\0").update(password).digest();
    const known = this.verified.get(user);
    if (known && timingSafeEqual(known, mac)) return true;
    if (!(await verifyPassword(password, hash))) return false;
    if (this.verified.size >= VERIFIED_LIMIT) this.verified.clear();
    this.verified.set(user, mac);
    return true;
  }
}

/**
 * The Auth for a config: reads auth.usersFile and auth.aclFile and applies the anonymous policy.
 * Throws when the files are unreadable or malformed, or the policy refuses the configuration.
 */
export async function createAuth(config: Config): Promise<FileAuth> {
  const policy = checkAnonymousPolicy(config);
  if (policy.error) throw new Error(policy.error);
  const { usersFile, aclFile, wampcraFile } = config.auth;
  const file = usersFile !== undefined ? await readUsersFile(usersFile) : undefined;
  return new FileAuth({
    challengeSecrets: wampcraFile !== undefined ? await readWampCraFile(wampcraFile) : undefined,
    wampcraFile,
    users: file?.users(),
    scram: file?.scram(),
    acl: aclFile !== undefined ? await Acl.load(aclFile) : undefined,
    allowAnonymous: policy.allowAnonymous,
    usersFile,
    aclFile,
  });
}
