/**
 * `POST /api/rpc/<procedure>` (docs/rpc.md "HTTP"): a call through the core Dealer with a JSON body
 * (`{"args": [...], "kwargs": {...}}`, or any other JSON value as the one argument; empty: no
 * arguments). The result is the response body as JSON; an error is `{"error": uri, "args", "kwargs"}`
 * with a status chosen by its URI (ERROR_STATUS).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Callee, Caller, EndpointState, PendingCall, RpcPayload } from "../core/dealer/index.js";
import { RpcError, RpcErrors } from "../core/dealer/index.js";
import { binaryToJson } from "../core/json-binary.js";
import type { Router } from "../core/router.js";
import { INVALID_URI, isValidProcedure, NOT_AUTHORIZED } from "../core/rpc-bridge.js";
import { hasKeys, jsonBodyArgs } from "../core/rpc-payload.js";
import { Session } from "../core/session.js";
import { authenticateRequest, readBody, sendJson } from "./http-auth.js";

export const RPC_PATH = "/api/rpc/";

/** HTTP status per error URI; any other (application) error is 500. */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  [RpcErrors.noSuchProcedure]: 404,
  [RpcErrors.timeout]: 504,
  [RpcErrors.canceled]: 502,
  [NOT_AUTHORIZED]: 403,
  [INVALID_URI]: 400,
  "wamp.error.invalid_argument": 400,
};

/** One HTTP request as the Dealer's caller (a callee only in type: it never registers). */
class HttpCaller implements Caller, Callee {
  rpc?: EndpointState;
  readonly canCancel = false;
  answered = false;
  constructor(
    readonly session: Session,
    private readonly res: ServerResponse,
  ) {}

  result(_call: PendingCall, payload: RpcPayload, progress: boolean): void {
    if (!progress) this.succeed(payload);
  }

  error(_call: PendingCall, uri: string, payload: RpcPayload): void {
    this.fail(uri, payload);
  }

  succeed(payload: RpcPayload): void {
    this.respond(200, resultJson(payload));
  }

  fail(uri: string, payload: RpcPayload): void {
    this.respond(ERROR_STATUS[uri] ?? 500, errorJson(uri, payload));
  }

  respond(status: number, body: unknown): void {
    if (this.answered) return;
    this.answered = true;
    sendJson(this.res, status, body);
  }

  invoke(): void {}
  interrupt(): void {}
}

/** A result: its one argument, or `{"args", "kwargs"}` when it has more (or none: null). */
export function resultJson(p: RpcPayload): unknown {
  const n = p.args?.length ?? 0;
  if (!hasKeys(p.kwargs)) {
    if (n === 0) return null;
    if (n === 1) return binaryToJson(p.args![0]);
  }
  return binaryToJson({ args: p.args ?? [], kwargs: p.kwargs ?? {} });
}

function errorJson(uri: string, p: RpcPayload): unknown {
  const doc: Record<string, unknown> = { error: uri };
  if (p.args !== undefined && p.args.length > 0) doc.args = p.args;
  if (hasKeys(p.kwargs)) doc.kwargs = p.kwargs;
  return binaryToJson(doc);
}

let nextCaller = 0;

export function rpcRoute(router: Router, maxBody: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void handleCall(router, maxBody, req, res).catch(() => sendJson(res, 500, { error: "internal error" }));
  };
}

async function handleCall(router: Router, maxBody: number, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? "").split("?")[0]!;
  const procedure = decodePath(path.slice(RPC_PATH.length));
  const principal = await authenticateRequest(router.auth, req, res);
  if (principal === undefined) return;
  if (procedure === undefined || !isValidProcedure(procedure))
    return sendJson(res, 400, { error: INVALID_URI });
  if (!router.auth.authorize(principal, "call", procedure))
    return sendJson(res, 403, { error: NOT_AUTHORIZED });
  const body = await readBody(req, res, maxBody);
  if (body === undefined) return;
  let args: RpcPayload = {};
  if (body.length > 0) {
    try {
      args = jsonBodyArgs(JSON.parse(body.toString("utf8")));
    } catch {
      return sendJson(res, 400, { error: "wamp.error.invalid_argument", args: ["the body is not JSON"] });
    }
  }
  const session = new Session(`http-${++nextCaller}`, "http");
  const caller = new HttpCaller(session, res);
  const r = router.dealer.call(caller, 1, procedure, args, {
    timeoutMs: router.dealer.defaultTimeoutMs,
    receiveProgress: false,
    discloseCaller: false,
  });
  if (r instanceof RpcError) return caller.fail(r.uri, r.payload);
  if (r !== undefined) return caller.succeed(r);
  // The client went away before the answer: the call is abandoned (its callee interrupted if it can be).
  res.on("close", () => {
    if (!caller.answered) router.dealer.leave(caller);
  });
}

/** The percent-decoded procedure name; undefined for a malformed escape (`%zz`). */
function decodePath(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
