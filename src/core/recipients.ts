/**
 * Who may receive a message, beyond matching a subscription: the publisher's own session left out,
 * black- and white-lists by session id, authenticated identity and role (WAMP's "Publisher
 * Exclusion" and "Subscriber Black- and Whitelisting"). Checked by the Router for every protocol's
 * subscribers, only for messages that carry a filter.
 */
import type { Session } from "./session.js";

export interface RecipientFilter {
  /** Leave out the session that published the message. */
  excludePublisher: boolean;
  exclude?: ReadonlySet<number>;
  eligible?: ReadonlySet<number>;
  excludeAuthId?: ReadonlySet<string>;
  eligibleAuthId?: ReadonlySet<string>;
  excludeAuthRole?: ReadonlySet<string>;
  eligibleAuthRole?: ReadonlySet<string>;
}

/** The authenticated identity of a session (its user name, else its client id). */
export function authIdOf(session: Session): string {
  const info = session.connection?.info;
  return info?.authId ?? info?.username ?? session.clientId;
}

/** The role of a session: what its adapter says, else "user" when authenticated, else "anonymous". */
export function authRoleOf(session: Session): string {
  const info = session.connection?.info;
  return info?.authRole ?? (info?.username !== undefined ? "user" : "anonymous");
}

/** True when the filter lets `session` receive a message published by `publisherId`. */
export function admits(f: RecipientFilter, session: Session, publisherId: string): boolean {
  if (f.excludePublisher && publisherId === session.clientId) return false;
  if (f.exclude?.has(session.id)) return false;
  if (f.eligible !== undefined && !f.eligible.has(session.id)) return false;
  if (f.excludeAuthId !== undefined || f.eligibleAuthId !== undefined) {
    const id = authIdOf(session);
    if (f.excludeAuthId?.has(id)) return false;
    if (f.eligibleAuthId !== undefined && !f.eligibleAuthId.has(id)) return false;
  }
  if (f.excludeAuthRole !== undefined || f.eligibleAuthRole !== undefined) {
    const role = authRoleOf(session);
    if (f.excludeAuthRole?.has(role)) return false;
    if (f.eligibleAuthRole !== undefined && !f.eligibleAuthRole.has(role)) return false;
  }
  return true;
}
