/**
 * Routed RPC from STOMP (docs/rpc.md "STOMP"): SEND to `/rpc/<procedure>` with `reply-to` (a
 * `/temp-queue/`, `/reply-queue/` or `/topic/` destination) and `correlation-id`. The answer is a
 * MESSAGE on the reply-to destination with the same `correlation-id`; an error has the header
 * `error` = its URI and its args/kwargs as the body. Calls go through the core RpcBridge.
 */

import type { MessageProperties } from "../../core/message.js";
import {
  INVALID_URI,
  isValidProcedure,
  NOT_AUTHORIZED,
  type ReplyRoute,
  RpcBridge,
} from "../../core/rpc-bridge.js";
import type { StompConnection } from "./connection.js";
import { REPLY_PREFIX } from "./destination.js";
import { StompFrameError } from "./errors.js";

export function sendCall(
  c: StompConnection,
  procedure: string,
  body: Buffer,
  properties: MessageProperties,
  persistent: boolean,
): void {
  c.rpc ??= new RpcBridge(c.router, c.session!, undefined);
  const bridge = c.rpc;
  const to = properties.responseTopic;
  const reply: ReplyRoute | undefined =
    to === undefined
      ? undefined
      : {
          topic: to,
          correlationData: properties.correlationData,
          qos: persistent ? 1 : 0,
          errorForm: "property",
        };
  if (!isValidProcedure(procedure)) {
    if (reply) return bridge.refuse(reply, INVALID_URI);
    throw new StompFrameError("bad destination", `'/rpc/${procedure}': not a procedure name`);
  }
  const auth = c.router.auth;
  const principal = c.principal!;
  // The router publishes the answer for the caller: it must be allowed to publish there (its own
  // temp queues excepted).
  const own = to?.startsWith(`${REPLY_PREFIX}${c.id}-`) === true;
  if (
    !auth.authorize(principal, "call", procedure) ||
    (to && !own && !auth.authorize(principal, "publish", to))
  ) {
    if (reply) return bridge.refuse(reply, NOT_AUTHORIZED);
    throw new StompFrameError("access refused", `not authorized to call '${procedure}'`);
  }
  // Without reply-to the call is made and its answer dropped (a one-way call).
  bridge.call(procedure, body, withoutRpcHeaders(properties), reply);
}

/** The call's own metadata is not an argument: only content type and payload format count. */
function withoutRpcHeaders(p: MessageProperties): MessageProperties {
  if (p.contentType === undefined) return {};
  return { contentType: p.contentType };
}
