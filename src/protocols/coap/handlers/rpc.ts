/**
 * POST /rpc/<procedure>: routed RPC through the core Dealer (docs/rpc.md "CoAP"), so a WAMP or MQTT 5
 * callee answers a CoAP device. The procedure is the rest of the path with its segments joined by
 * "." (`/rpc/com.example.add` and `/rpc/com/example/add` both call `com.example.add`).
 *
 * The request payload is the call's arguments as in HTTP's `POST /api/rpc/`: JSON (Content-Format 50
 * or none) `{"args": [...], "kwargs": {...}}` or any other JSON value as the one argument; text is
 * one string, other bytes one byte string (src/core/rpc-payload.ts). The result is the response
 * payload (2.05 Content) with its Content-Format. The answer is rarely immediate: a CON request not
 * answered within separateResponseAfterMs gets an empty ACK and the answer separately (RFC 7252
 * §5.2.2). Errors: 4.04 no such procedure, 4.03 refused by the ACL, 4.00 invalid name,
 * 5.04 timeout, 5.02 callee gone, 5.00 an application error; the diagnostic payload is the JSON
 * `{"error": uri, "args", "kwargs"}`.
 */
import type { Callee, Caller, EndpointState, PendingCall, RpcPayload } from "../../../core/dealer/index.js";
import { RpcError, RpcErrors } from "../../../core/dealer/index.js";
import { NO_PROPERTIES } from "../../../core/message.js";
import { INVALID_URI, isValidProcedure, NOT_AUTHORIZED } from "../../../core/rpc-bridge.js";
import {
  decodeCallPayload,
  encodeRpcPayload,
  jsonBodyArgs,
  rpcErrorJson,
} from "../../../core/rpc-payload.js";
import { Session } from "../../../core/session.js";
import { respondBody, respondError } from "../body.js";
import { Code, Opt } from "../codec/constants.js";
import { type CoapOption, uintOption } from "../codec/message.js";
import { formatOf, propertiesFor } from "../content-format.js";
import type { RequestEnv } from "./env.js";

/** CoAP response code per error URI; any other (application) error is 5.00. */
const ERROR_CODES: Readonly<Record<string, number>> = {
  [RpcErrors.noSuchProcedure]: Code.NotFound,
  [RpcErrors.timeout]: Code.GatewayTimeout,
  [RpcErrors.canceled]: Code.BadGateway,
  [NOT_AUTHORIZED]: Code.Forbidden,
  [INVALID_URI]: Code.BadRequest,
  "wamp.error.invalid_argument": Code.BadRequest,
};

/** One CoAP request as the Dealer's caller (a callee only in type: it never registers). */
class CoapCaller implements Caller, Callee {
  rpc?: EndpointState;
  readonly canCancel = false;
  constructor(
    readonly session: Session,
    private readonly env: RequestEnv,
  ) {}

  result(_call: PendingCall, payload: RpcPayload, progress: boolean): void {
    if (!progress) this.succeed(payload);
  }

  error(_call: PendingCall, uri: string, payload: RpcPayload): void {
    this.fail(uri, payload);
  }

  succeed(payload: RpcPayload): void {
    const { payload: body, properties } = encodeRpcPayload(payload);
    const options: CoapOption[] = [];
    const format = formatOf(properties);
    if (format !== undefined) options.push(uintOption(Opt.ContentFormat, format));
    respondBody(this.env.res.ctx, this.env.ex, Code.Content, options, body);
  }

  fail(uri: string, payload: RpcPayload): void {
    const code = ERROR_CODES[uri] ?? Code.InternalServerError;
    respondError(this.env.res.ctx, this.env.ex, code, rpcErrorJson(uri, payload).toString("utf8"), [
      uintOption(Opt.ContentFormat, JSON_FORMAT),
    ]);
  }

  invoke(): void {}
  interrupt(): void {}
}

/** Content-Format of application/json (RFC 7252 §12.3). */
const JSON_FORMAT = 50;

/**
 * The call's arguments. A JSON payload (Content-Format 50, or none) is read as HTTP's body is:
 * `{"args": [...], "kwargs": {...}}`, or any other JSON value as the one argument; other payloads
 * by the core mapping (text: one string, bytes: one byte string). undefined: declared JSON that is not.
 */
function callArgs(body: Buffer, format: number | undefined): RpcPayload | undefined {
  if (body.length > 0 && (format === undefined || format === JSON_FORMAT)) {
    try {
      return jsonBodyArgs(JSON.parse(body.toString("utf8")));
    } catch {
      if (format === JSON_FORMAT) return undefined;
    }
  }
  return decodeCallPayload(body, propertiesFor(format) ?? NO_PROPERTIES);
}

let nextCaller = 0;

export function callProcedure(env: RequestEnv, segments: readonly string[]): void {
  const { res, ex } = env;
  if (segments.length === 0) {
    respondError(res.ctx, ex, Code.NotFound, "POST /rpc/<procedure>");
    return;
  }
  if (ex.req.msg.code !== Code.POST) {
    respondError(res.ctx, ex, Code.MethodNotAllowed, "call a procedure with POST");
    return;
  }
  const procedure = segments.join(".");
  const router = res.ctx.router;
  const caller = new CoapCaller(new Session(`coap-rpc-${++nextCaller}`, "coap"), env);
  if (!isValidProcedure(procedure)) return caller.fail(INVALID_URI, {});
  if (!router.auth.authorize(env.principal, "call", procedure)) return caller.fail(NOT_AUTHORIZED, {});
  const args = callArgs(env.body, ex.req.contentFormat);
  if (args === undefined)
    return caller.fail("wamp.error.invalid_argument", { args: ["the payload is not JSON"] });
  const r = router.dealer.call(caller, 1, procedure, args, {
    timeoutMs: router.dealer.defaultTimeoutMs,
    receiveProgress: false,
    discloseCaller: false,
  });
  if (r instanceof RpcError) return caller.fail(r.uri, r.payload);
  if (r !== undefined) return caller.succeed(r);
  // The callee answers later: a CON request gets an empty ACK if that takes separateResponseAfterMs.
  ex.deferred();
}
