/** SASL PLAIN (RFC 4616) and ANONYMOUS (RFC 4505), checked by the core Auth. */
import { randomBytes } from "node:crypto";
import type { Auth } from "../../../core/auth.js";
import type { SaslContext, SaslMechanism, SaslStep } from "./mechanism.js";

export class PlainMechanism implements SaslMechanism {
  constructor(
    private readonly auth: Auth,
    private readonly ctx: SaslContext,
  ) {}

  async start(initial: Buffer | undefined): Promise<SaslStep> {
    // No initial response: an empty challenge asks for it (RFC 6120 §6.4.2).
    if (initial === undefined) return { kind: "challenge", data: Buffer.alloc(0) };
    return this.step(initial);
  }

  async step(message: Buffer): Promise<SaslStep> {
    // message = [authzid] NUL authcid NUL passwd (RFC 4616 §2)
    const first = message.indexOf(0);
    const second = first < 0 ? -1 : message.indexOf(0, first + 1);
    if (first < 0 || second < 0 || message.indexOf(0, second + 1) >= 0) {
      return { kind: "failure", condition: "malformed-request" };
    }
    const authzid = message.subarray(0, first).toString("utf8");
    const username = message.subarray(first + 1, second).toString("utf8");
    const password = message.subarray(second + 1);
    if (username === "") return { kind: "failure", condition: "malformed-request" };
    // An authzid may only name the user itself (no impersonation).
    if (authzid !== "" && authzid !== username && authzid !== `${username}@${this.ctx.domain}`) {
      return { kind: "failure", condition: "invalid-authzid" };
    }
    const r = await this.auth.authenticate({
      protocol: "xmpp",
      clientId: this.ctx.clientId,
      username,
      password,
      remoteAddress: this.ctx.remoteAddress,
      secure: this.ctx.secure,
    });
    if (!r.ok) return { kind: "failure", condition: "not-authorized" };
    // Without a users file, anonymous access (when allowed) takes the name it is given: the client
    // is still anonymous for the ACL, but addressable as name@domain.
    return { kind: "success", principal: r.principal.anonymous ? { ...r.principal, username } : r.principal };
  }
}

export class AnonymousMechanism implements SaslMechanism {
  constructor(
    private readonly auth: Auth,
    private readonly ctx: SaslContext,
  ) {}

  async start(): Promise<SaslStep> {
    const r = await this.auth.authenticate({
      protocol: "xmpp",
      clientId: this.ctx.clientId,
      remoteAddress: this.ctx.remoteAddress,
      secure: this.ctx.secure,
    });
    if (!r.ok) return { kind: "failure", condition: "not-authorized" };
    // An anonymous user gets a fresh local part of its own (XEP-0175).
    const principal = { ...r.principal, username: `anon-${randomBytes(6).toString("hex")}`, anonymous: true };
    return { kind: "success", principal };
  }

  async step(): Promise<SaslStep> {
    return { kind: "failure", condition: "malformed-request" };
  }
}
