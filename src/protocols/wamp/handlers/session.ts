/**
 * Session establishment and closing (WAMP §7): HELLO, CHALLENGE/AUTHENTICATE (ticket, WAMP-CRA with
 * salted secrets, §13.7), WELCOME, ABORT and GOODBYE. Every method ends in the core Auth: anonymous
 * and ticket through Auth.authenticate, WAMP-CRA with the key from Auth.challengeSecret; the
 * resulting principal (authid = user name) is what the one ACL judges.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal } from "../../../core/auth.js";
import {
  type Abort,
  type Authenticate,
  type Dict,
  type Goodbye,
  type Hello,
  isDict,
  MessageType,
  WampError,
} from "../codec/messages.js";
import { isValidUri } from "../codec/uri.js";
import type { WampConnection } from "../connection.js";
import { RpcEndpoint } from "../rpc-endpoint.js";

const ROLE_NAMES = ["publisher", "subscriber", "caller", "callee"];

/** What the router announces in WELCOME: only what it implements (README feature table). */
export function routerRoles(eventHistory: boolean): Dict {
  return {
    broker: {
      features: {
        publisher_identification: true,
        publisher_exclusion: true,
        subscriber_blackwhite_listing: true,
        pattern_based_subscription: true,
        subscription_meta_api: true,
        session_meta_api: true,
        event_retention: true,
        event_history: eventHistory,
      },
    },
    dealer: {
      features: {
        caller_identification: true,
        call_canceling: true,
        call_timeout: true,
        progressive_call_results: true,
        pattern_based_registration: true,
        shared_registration: true,
        registration_meta_api: true,
        session_meta_api: true,
      },
    },
  };
}

function feature(role: unknown, name: string): boolean {
  return isDict(role) && isDict(role.features) && role.features[name] === true;
}

export function handleHello(conn: WampConnection, [, realm, details]: Hello): void {
  const ctx = conn.ctx;
  if (!isValidUri(realm, ctx.options.uriCheck))
    return conn.abort(WampError.invalidUri, `invalid realm URI "${realm}"`);
  const roles = details.roles;
  if (!isDict(roles) || !ROLE_NAMES.some((r) => isDict(roles[r]))) {
    return conn.abort(
      WampError.protocolViolation,
      "HELLO.Details.roles must announce at least one client role",
    );
  }
  if (!ctx.openRealm(realm)) return conn.abort(WampError.noSuchRealm, `no such realm "${realm}"`);
  conn.roles = roles;
  conn.canCancel = feature(roles.callee, "call_canceling");
  conn.progressiveResults = feature(roles.callee, "progressive_call_results");
  const methods = Array.isArray(details.authmethods) ? details.authmethods : ["anonymous"];
  const authid = typeof details.authid === "string" && details.authid !== "" ? details.authid : undefined;
  for (const method of methods) {
    if (method === "anonymous" && ctx.anonymousAllowed(realm))
      return void authenticateAnonymous(conn, realm, authid);
    if (method === "ticket" && authid !== undefined) {
      conn.challenge = { method: "ticket", realm, authid, authrole: "user", details };
      conn.state = "challenged";
      return conn.send([MessageType.CHALLENGE, "ticket", {}]);
    }
    if (method === "wampcra" && authid !== undefined && ctx.router.auth.challengeSecret) {
      return void challengeCra(conn, realm, authid, details);
    }
  }
  conn.abort(WampError.noAuthMethod, "no offered authentication method is available for this realm");
}

async function authenticateAnonymous(
  conn: WampConnection,
  realm: string,
  authid: string | undefined,
): Promise<void> {
  conn.state = "authenticating";
  const clientId = conn.ctx.newClientId();
  const r = await conn.ctx.router.auth.authenticate({
    protocol: "wamp",
    clientId,
    remoteAddress: conn.info.remoteAddress,
    secure: conn.transport.kind === "wss",
  });
  if (conn.state !== "authenticating") return;
  if (!r.ok) return conn.abort(WampError.authenticationFailed, "anonymous clients are not allowed");
  welcome(
    conn,
    realm,
    clientId,
    r.principal,
    authid ?? `anonymous-${randomBytes(6).toString("hex")}`,
    "anonymous",
    "anonymous",
  );
}

async function challengeCra(
  conn: WampConnection,
  realm: string,
  authid: string,
  details: Dict,
): Promise<void> {
  conn.state = "authenticating";
  const secret = await conn.ctx.router.auth.challengeSecret!(authid);
  if (conn.state !== "authenticating") return;
  if (secret === undefined) return conn.abort(WampError.authenticationFailed, "authentication failed");
  const challenge = JSON.stringify({
    authid,
    authrole: secret.role,
    authmethod: "wampcra",
    authprovider: "switchboard",
    nonce: randomBytes(16).toString("base64"),
    timestamp: new Date().toISOString(),
    session: Math.floor(Math.random() * 2 ** 53),
  });
  const expected = Buffer.from(createHmac("sha256", secret.key).update(challenge).digest("base64"));
  const extra: Dict = { challenge };
  if (secret.salt !== undefined) {
    extra.salt = secret.salt;
    extra.iterations = secret.iterations;
    extra.keylen = secret.keylen;
  }
  conn.challenge = { method: "wampcra", realm, authid, authrole: secret.role, expected, details };
  conn.state = "challenged";
  conn.send([MessageType.CHALLENGE, "wampcra", extra]);
}

export function handleAuthenticate(conn: WampConnection, [, signature]: Authenticate): void {
  const ch = conn.challenge;
  conn.challenge = undefined;
  if (ch === undefined) return conn.abort(WampError.protocolViolation, "AUTHENTICATE without a CHALLENGE");
  const clientId = conn.ctx.newClientId();
  if (ch.method === "wampcra") {
    const got = Buffer.from(signature);
    if (
      ch.expected === undefined ||
      got.length !== ch.expected.length ||
      !timingSafeEqual(got, ch.expected)
    ) {
      return conn.abort(WampError.authenticationFailed, "authentication failed");
    }
    const principal: Principal = { username: ch.authid, clientId, protocol: "wamp", anonymous: false };
    return welcome(conn, ch.realm, clientId, principal, ch.authid, ch.authrole, "wampcra");
  }
  void authenticateTicket(conn, ch.realm, clientId, ch.authid, signature);
}

async function authenticateTicket(
  conn: WampConnection,
  realm: string,
  clientId: string,
  authid: string,
  ticket: string,
): Promise<void> {
  conn.state = "authenticating";
  const r = await conn.ctx.router.auth.authenticate({
    protocol: "wamp",
    clientId,
    username: authid,
    password: Buffer.from(ticket),
    remoteAddress: conn.info.remoteAddress,
    secure: conn.transport.kind === "wss",
  });
  if (conn.state !== "authenticating") return;
  if (!r.ok || r.principal.anonymous)
    return conn.abort(WampError.authenticationFailed, "authentication failed");
  welcome(conn, realm, clientId, r.principal, authid, "user", "ticket");
}

function welcome(
  conn: WampConnection,
  realm: string,
  clientId: string,
  principal: Principal,
  authid: string,
  authrole: string,
  authmethod: string,
): void {
  const ctx = conn.ctx;
  conn.principal = principal;
  conn.realm = realm;
  conn.info.username = principal.username;
  conn.info.authId = authid;
  conn.info.authRole = authrole;
  conn.info.authMethod = authmethod;
  conn.clearHelloTimer();
  conn.state = "joined";
  const { session } = ctx.router.attach(clientId, "wamp", true, 0, conn);
  conn.session = session;
  conn.endpoint = new RpcEndpoint(conn, session);
  conn.send([
    MessageType.WELCOME,
    session.id,
    {
      realm,
      authid,
      authrole,
      authmethod,
      authprovider: "switchboard",
      roles: routerRoles(ctx.options.eventHistory > 0),
    },
  ]);
}

/** The client says GOODBYE: answer, end the session; the transport stays open for a new HELLO. */
export function handleGoodbye(conn: WampConnection, _msg: Goodbye): void {
  if (conn.state === "closing") {
    conn.state = "closed";
    conn.transport.close();
    return;
  }
  conn.send([MessageType.GOODBYE, {}, WampError.goodbyeAndOut]);
  conn.leave();
  conn.state = "hello";
}

export function handleAbort(conn: WampConnection, _msg: Abort): void {
  conn.leave();
  conn.state = "closed";
  conn.transport.close();
}
