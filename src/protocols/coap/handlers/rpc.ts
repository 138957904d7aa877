/**
 * POST /rpc/<procedure>: routed RPC through the core Dealer. The Dealer arrives with the WAMP
 * adapter; until then every call is answered 5.01 Not Implemented with a diagnostic payload.
 */
import { respondError } from "../body.js";
import { Code } from "../codec/constants.js";
import type { RequestEnv } from "./env.js";

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
  respondError(
    res.ctx,
    ex,
    Code.NotImplemented,
    `routed RPC is not available yet (procedure ${segments.join(".")}): the Dealer lands with the WAMP adapter`,
  );
}
