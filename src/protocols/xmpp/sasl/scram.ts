/**
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, against the salted
 * keys the users file stores (StoredKey and ServerKey, never the password; docs/security.md).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Auth, ScramHash } from "../../../core/auth.js";
import type { SaslContext, SaslMechanism, SaslStep } from "./mechanism.js";

export class ScramMechanism implements SaslMechanism {
  private state: "first" | "final" | "done" = "first";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";
  private username = "";
  private keys: { storedKey: Buffer; serverKey: Buffer } | undefined;

  constructor(
    private readonly auth: Auth,
    private readonly ctx: SaslContext,
    private readonly hash: ScramHash,
  ) {}

  async start(initial: Buffer | undefined): Promise<SaslStep> {
    if (initial === undefined) return { kind: "challenge", data: Buffer.alloc(0) };
    return this.step(initial);
  }

  async step(data: Buffer): Promise<SaslStep> {
    if (this.state === "first") return this.first(data.toString("utf8"));
    if (this.state === "final") return this.final(data.toString("utf8"));
    return { kind: "failure", condition: "malformed-request" };
  }

  private async first(msg: string): Promise<SaslStep> {
    // gs2-header: "n,," or "y,," (no channel binding); "p=" asks for binding we do not offer.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(msg);
    if (!m) return { kind: "failure", condition: "malformed-request" };
    if (m[2] !== undefined && m[2] !== "") return { kind: "failure", condition: "invalid-authzid" };
    this.clientFirstBare = m[3]!;
    const attrs = parseAttrs(this.clientFirstBare);
    const user = attrs.get("n");
    const cnonce = attrs.get("r");
    if (!user || !cnonce || attrs.has("m")) return { kind: "failure", condition: "malformed-request" };
    this.username = user.replace(/=2C/g, ",").replace(/=3D/g, "=");
    const creds = await this.auth.scramCredentials!(this.username, this.hash);
    // An unknown user gets a made-up salt, so the exchange does not reveal who exists.
    const salt = creds?.salt ?? createHash("sha256").update(this.username).digest().subarray(0, 16);
    const iterations = creds?.iterations ?? 4096;
    this.keys = creds;
    this.nonce = cnonce + randomBytes(18).toString("base64");
    this.serverFirst = `r=${this.nonce},s=${salt.toString("base64")},i=${iterations}`;
    this.state = "final";
    return { kind: "challenge", data: Buffer.from(this.serverFirst) };
  }

  private async final(msg: string): Promise<SaslStep> {
    this.state = "done";
    const p = msg.lastIndexOf(",p=");
    if (p < 0) return { kind: "failure", condition: "malformed-request" };
    const withoutProof = msg.slice(0, p);
    const attrs = parseAttrs(withoutProof);
    const proof = Buffer.from(msg.slice(p + 3), "base64");
    if (attrs.get("r") !== this.nonce) return { kind: "failure", condition: "not-authorized" };
    // c= must repeat the gs2 header without channel binding ("n,," or "y,,")
    const cb = Buffer.from(attrs.get("c") ?? "", "base64").toString();
    if (cb !== "n,," && cb !== "y,,") return { kind: "failure", condition: "not-authorized" };
    if (!this.keys) return { kind: "failure", condition: "not-authorized" };
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(this.hash, this.keys.storedKey).update(authMessage).digest();
    if (proof.length !== clientSignature.length) return { kind: "failure", condition: "not-authorized" };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const stored = createHash(this.hash).update(clientKey).digest();
    if (!timingSafeEqual(stored, this.keys.storedKey))
      return { kind: "failure", condition: "not-authorized" };
    const verifier = createHmac(this.hash, this.keys.serverKey).update(authMessage).digest("base64");
    const principal = {
      username: this.username,
      clientId: this.ctx.clientId,
      protocol: "xmpp",
      anonymous: false,
    };
    return { kind: "success", principal, data: Buffer.from(`v=${verifier}`) };
  }
}

function parseAttrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(",")) {
    if (part.length >= 2 && part[1] === "=") m.set(part[0]!, part.slice(2));
  }
  return m;
}
