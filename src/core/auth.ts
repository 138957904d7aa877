/**
 * Authentication and authorization, one for every protocol. Each adapter turns its protocol's own
 * mechanism into Credentials; the result is one Principal, and one ACL decides per action and topic.
 */
import type { ScramCredentials, ScramHash } from "./auth/scram.js";

export type { ScramCredentials, ScramHash };

export type Action = "publish" | "subscribe" | "call" | "register";

export interface Credentials {
  protocol: string; // "mqtt", "amqp091", ...
  clientId: string;
  username?: string;
  password?: Buffer;
  remoteAddress?: string;
  /** True for TLS / WSS transports. */
  secure: boolean;
}

export interface Principal {
  /** Authenticated user name; undefined for an anonymous client. */
  username?: string;
  clientId: string;
  protocol: string;
  anonymous: boolean;
}

export type AuthResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "bad-credentials" | "not-authorized" };

export interface Auth {
  /** May do I/O (hashing, an external service): async at the edge. */
  authenticate(credentials: Credentials): Promise<AuthResult>;
  /**
   * The one ACL decision. Synchronous on purpose: it is asked on every publish and must be a
   * cheap in-memory lookup. `topic` is canonical (MQTT form); for subscribe it is the filter.
   */
  authorize(principal: Principal, action: Action, topic: string): boolean;
  /**
   * For a subscription filter: are all, some or none of its topics allowed? With "some" the
   * adapter checks each message's topic with authorize(principal, "subscribe", topic) before it
   * delivers it. Optional: without it, authorize() decides "all" or "none".
   */
  subscribeScope?(principal: Principal, filter: string): SubscribeScope;
  /**
   * The stored SCRAM keys of a user (XMPP SASL SCRAM-SHA-1/-256), or undefined when the user is
   * unknown or has none. Optional: without it, SCRAM mechanisms are not offered.
   */
  scramCredentials?(username: string, hash: ScramHash): Promise<ScramCredentials | undefined>;
  /**
   * For challenge-response mechanisms (WAMP-CRA): the key the router signs a user's challenges
   * with, or undefined when the user has none. Optional: without it such mechanisms are refused.
   */
  challengeSecret?(username: string): Promise<ChallengeSecret | undefined>;
}

/** A key shared with a client for challenge-response authentication, with its salting parameters. */
export interface ChallengeSecret {
  /** The HMAC key (for salted WAMP-CRA: the Base64 text of the derived key). */
  key: Buffer;
  /** The role the user gets. */
  role: string;
  salt?: string;
  iterations?: number;
  keylen?: number;
}

export type SubscribeScope = "all" | "some" | "none";

/** The scope of a subscription under any Auth (see Auth.subscribeScope). */
export function subscribeScope(auth: Auth, principal: Principal, filter: string): SubscribeScope {
  if (auth.subscribeScope) return auth.subscribeScope(principal, filter);
  return auth.authorize(principal, "subscribe", filter) ? "all" : "none";
}

/** Accepts everyone and allows everything: for tests and for an explicit allowAnonymous setup. */
export class AllowAllAuth implements Auth {
  async authenticate(c: Credentials): Promise<AuthResult> {
    return {
      ok: true,
      principal: { username: c.username, clientId: c.clientId, protocol: c.protocol, anonymous: !c.username },
    };
  }
  authorize(): boolean {
    return true;
  }
}
