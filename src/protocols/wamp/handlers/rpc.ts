/**
 * Routed RPC (WAMP §12 and the advanced profile) on the core Dealer: REGISTER/UNREGISTER with match
 * and invocation policies, CALL with timeout, receive_progress and disclose_me, CANCEL (skip, kill,
 * killnowait), YIELD (progressive or final) and a callee's ERROR, passed through with its args and
 * kwargs. The Dealer decides; these handlers check URIs, options and the ACL and translate.
 */

import type { MatchPolicy } from "../../../core/dealer/index.js";
import {
  CANCEL_MODES,
  type CancelMode,
  INVOKE_POLICIES,
  type InvokePolicy,
  RpcError,
} from "../../../core/dealer/index.js";
import {
  type Call,
  type Cancel,
  type ErrorMsg,
  MessageType,
  type Register,
  type Unregister,
  WampError,
  type Yield,
} from "../codec/messages.js";
import { isReservedUri, isValidUri } from "../codec/uri.js";
import { appendPayload, type WampConnection } from "../connection.js";
import { argsOf } from "../payload.js";

const MATCHES: readonly string[] = ["exact", "prefix", "wildcard"];

export function handleRegister(conn: WampConnection, [, request, options, procedure]: Register): void {
  const match = options.match ?? "exact";
  const invoke = options.invoke ?? "single";
  if (typeof match !== "string" || !MATCHES.includes(match)) {
    return conn.sendError(MessageType.REGISTER, request, WampError.invalidArgument, {
      args: [`unknown match policy ${String(match)}`],
    });
  }
  if (typeof invoke !== "string" || !INVOKE_POLICIES.includes(invoke as InvokePolicy)) {
    return conn.sendError(MessageType.REGISTER, request, WampError.invalidArgument, {
      args: [`unknown invocation policy ${String(invoke)}`],
    });
  }
  if (!isValidUri(procedure, conn.ctx.options.uriCheck, match !== "exact") || isReservedUri(procedure)) {
    return conn.sendError(MessageType.REGISTER, request, WampError.invalidUri);
  }
  const ctx = conn.ctx;
  if (!ctx.router.auth.authorize(conn.principal!, "register", procedure)) {
    return conn.sendError(MessageType.REGISTER, request, WampError.notAuthorized);
  }
  const reg = ctx.router.dealer.register(
    conn.endpoint!,
    procedure,
    match as MatchPolicy,
    invoke as InvokePolicy,
  );
  if (reg instanceof RpcError) return conn.sendError(MessageType.REGISTER, request, reg.uri);
  conn.send([MessageType.REGISTERED, request, reg.id]);
}

export function handleUnregister(conn: WampConnection, [, request, id]: Unregister): void {
  if (!conn.ctx.router.dealer.unregister(conn.endpoint!, id)) {
    return conn.sendError(MessageType.UNREGISTER, request, WampError.noSuchRegistration);
  }
  conn.send([MessageType.UNREGISTERED, request]);
}

export function handleCall(conn: WampConnection, [, request, options, procedure, args, kwargs]: Call): void {
  if (!isValidUri(procedure, conn.ctx.options.uriCheck))
    return conn.sendError(MessageType.CALL, request, WampError.invalidUri);
  const ctx = conn.ctx;
  if (!ctx.router.auth.authorize(conn.principal!, "call", procedure)) {
    return conn.sendError(MessageType.CALL, request, WampError.notAuthorized);
  }
  const timeout = options.timeout ?? 0;
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 0) {
    return conn.sendError(MessageType.CALL, request, WampError.invalidArgument, {
      args: ["timeout must be a non-negative integer (ms)"],
    });
  }
  const payload = argsOf(args, kwargs);
  const r = ctx.router.dealer.call(conn.endpoint!, request, procedure, payload, {
    timeoutMs: timeout,
    receiveProgress: options.receive_progress === true,
    discloseCaller: options.disclose_me === true,
  });
  if (r === undefined) return;
  if (r instanceof RpcError) return conn.sendError(MessageType.CALL, request, r.uri, r.payload);
  const msg: unknown[] = [MessageType.RESULT, request, {}];
  appendPayload(msg, r);
  conn.send(msg);
}

export function handleCancel(conn: WampConnection, [, request, options]: Cancel): void {
  const mode = options.mode ?? "killnowait";
  if (typeof mode !== "string" || !CANCEL_MODES.includes(mode as CancelMode)) {
    return conn.sendError(MessageType.CANCEL, request, WampError.invalidArgument, {
      args: [`unknown cancel mode ${String(mode)}`],
    });
  }
  conn.ctx.router.dealer.cancel(conn.endpoint!, request, mode as CancelMode);
}

export function handleYield(conn: WampConnection, [, invocation, options, args, kwargs]: Yield): void {
  const payload = argsOf(args, kwargs);
  conn.ctx.router.dealer.yield(conn.endpoint!, invocation, payload, options.progress === true);
}

/** ERROR from a client: only an answer to an INVOCATION is meaningful (WAMP §12.3.3). */
export function handleError(conn: WampConnection, [, type, invocation, , uri, args, kwargs]: ErrorMsg): void {
  if (type !== MessageType.INVOCATION)
    return conn.abort(WampError.protocolViolation, `ERROR for message type ${type}`);
  if (!isValidUri(uri, "loose"))
    return conn.abort(WampError.protocolViolation, "ERROR with an invalid error URI");
  const payload = argsOf(args, kwargs);
  conn.ctx.router.dealer.calleeError(conn.endpoint!, invocation, uri, payload);
}
