/** The dicts the meta API returns for a session, a registration and a subscription. */
import type { Registration } from "../../../core/dealer/index.js";
import { authIdOf, authRoleOf } from "../../../core/recipients.js";
import type { Session, SessionConnection } from "../../../core/session.js";
import type { WampSubscription } from "../subscriptions.js";

export interface SessionDetails {
  session: number;
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  transport: { type: string; protocol: string; peer: string };
  [key: string]: unknown;
}

/** Any protocol's session, as wamp.session.get describes it. */
export function sessionDetails(s: Session, c: SessionConnection): SessionDetails {
  const info = c.info;
  // authIdOf/authRoleOf read the live connection; on leave it is already gone, so read `c` too.
  const authid = info.authId ?? info.username ?? (s.connection ? authIdOf(s) : s.clientId);
  const authrole =
    info.authRole ?? (info.username !== undefined ? "user" : s.connection ? authRoleOf(s) : "anonymous");
  return {
    session: s.id,
    authid,
    authrole,
    authmethod: info.authMethod ?? (info.username !== undefined ? "password" : "anonymous"),
    authprovider: "switchboard",
    transport: {
      type: info.transport,
      protocol: `${info.protocol}/${info.protocolVersion}`,
      peer: `${info.remoteAddress}:${info.remotePort}`,
    },
    protocol: info.protocol,
    client_id: s.clientId,
  };
}

export function registrationDetails(r: Registration): Record<string, unknown> {
  return { id: r.id, created: r.created.toISOString(), uri: r.procedure, match: r.match, invoke: r.invoke };
}

export function subscriptionDetails(sub: WampSubscription): Record<string, unknown> {
  return { id: sub.id, created: sub.created.toISOString(), uri: sub.uri, match: sub.match };
}
