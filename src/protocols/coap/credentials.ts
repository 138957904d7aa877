/**
 * Authentication without DTLS (INSECURE: sent in clear): like EMQX's CoAP gateway, a request may
 * carry `?clientid=..&username=..&password=..`. No user name is an anonymous client, which the
 * broker's anonymous policy allows or refuses. A principal is remembered per peer and credentials,
 * so only the first request of a client waits for password hashing.
 */
import type { Principal } from "../../core/auth.js";
import type { Router } from "../../core/router.js";
import { MAX_PRINCIPALS_PER_PEER, type Peer } from "./peer.js";
import { queryValue, type Request } from "./request.js";

export interface RequestIdentity {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
}

export function identityOf(req: Request, peer: Peer): RequestIdentity {
  // Most requests carry no query at all: the peer's own identity, made once.
  if (req.query.length === 0) return peer.plainIdentity;
  return {
    clientId: queryValue(req, "clientid") || peer.defaultClientId,
    username: queryValue(req, "username"),
    password: queryValue(req, "password"),
  };
}

/** The principal, at once when known, else a promise (undefined = refused). */
export function principalOf(
  router: Router,
  peer: Peer,
  id: RequestIdentity,
): Principal | Promise<Principal | undefined> {
  // The common case, a client without query parameters, is looked up without building a key.
  const plain =
    id.username === undefined && id.password === undefined && id.clientId === peer.defaultClientId;
  if (plain && peer.plainPrincipal !== undefined) return peer.plainPrincipal;
  const key = `${id.clientId}\u0000${id.username ?? ""}\u0000${id.password ?? ""}`;
  const known = peer.principals?.get(key);
  if (known !== undefined) return known;
  return router.auth
    .authenticate({
      protocol: "coap",
      clientId: id.clientId,
      username: id.username,
      password: id.password === undefined ? undefined : Buffer.from(id.password, "utf8"),
      remoteAddress: peer.address,
      secure: false,
    })
    .then((r) => {
      if (!r.ok) return undefined;
      if (peer.principals === undefined) peer.principals = new Map();
      const cache = peer.principals;
      if (cache.size >= MAX_PRINCIPALS_PER_PEER) cache.clear();
      cache.set(key, r.principal);
      if (plain) peer.plainPrincipal = r.principal;
      return r.principal;
    });
}
