/**
 * The extension point for MQTT 5 enhanced authentication (§4.12): a challenge/response exchange
 * carried in AUTH packets, before CONNACK and again for re-authentication. A method is plugged
 * in by name; a CONNECT naming a method that is not registered gets 0x8C Bad authentication method.
 */
import type { Principal } from "../../core/auth.js";

export type AuthStep =
  /** Send AUTH 0x18 with this data and wait for the client's next AUTH. */
  | { kind: "continue"; data?: Buffer }
  /** Authenticated: CONNACK (or AUTH 0x00 on re-authentication), optionally with final data. */
  | { kind: "success"; principal: Principal; data?: Buffer }
  | { kind: "failure" };

export interface EnhancedAuthContext {
  clientId: string;
  username?: string;
  remoteAddress: string;
}

export interface EnhancedAuthMethod {
  /** Starts an exchange; returns the state object passed to later steps. */
  start(ctx: EnhancedAuthContext, data: Buffer | undefined): Promise<{ step: AuthStep; state: unknown }>;
  /** One more round: the client's AUTH data. */
  next(state: unknown, data: Buffer | undefined): Promise<AuthStep>;
}
