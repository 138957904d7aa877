/** SASL (RFC 6120 §6) as the stream sees it: a mechanism is a small state machine of steps. */
import type { Principal } from "../../../core/auth.js";

export type SaslFailure =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure";

export type SaslStep =
  | { kind: "challenge"; data: Buffer }
  | { kind: "success"; principal: Principal; data?: Buffer }
  | { kind: "failure"; condition: SaslFailure };

export interface SaslMechanism {
  /** The first step with the <auth/> element's initial response (undefined when it had none). */
  start(initial: Buffer | undefined): Promise<SaslStep>;
  /** A <response/> to the last challenge. */
  step(response: Buffer): Promise<SaslStep>;
}

export interface SaslContext {
  domain: string;
  clientId: string;
  secure: boolean;
  remoteAddress: string;
}
