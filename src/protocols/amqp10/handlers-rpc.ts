/**
 * Routed RPC from AMQP 1.0 (docs/rpc.md "AMQP 1.0"): a transfer to the address `/rpc/<procedure>` is a
 * call through the core Dealer, so a WAMP or MQTT 5 callee answers. The body is the arguments by the
 * core mapping (as for every message-carrying protocol); the answer goes to the message's `reply-to`
 * address — `/topic/…` (a dynamic receiver node is one) through the topic space, `/queue/…` into that
 * queue — with the caller's `correlation-id`; an error carries the application property `error` =
 * its URI. Without `reply-to` the call is made and its answer dropped. The transfer is accepted once
 * the call is made.
 */
import type { Message } from "../../core/message.js";
import {
  INVALID_URI,
  isValidProcedure,
  NOT_AUTHORIZED,
  type ReplyRoute,
  RpcBridge,
} from "../../core/rpc-bridge.js";
import { Session } from "../../core/session.js";
import { parseAddress } from "./address.js";
import type { Amqp10Session } from "./session.js";

export function rpcCall(s: Amqp10Session, procedure: string, message: Message): void {
  const conn = s.conn;
  conn.rpc ??= new RpcBridge(conn.router, new Session(`${conn.id}/rpc`, "amqp10"), undefined);
  const bridge = conn.rpc;
  const p = message.properties;
  const replyTo = p.responseTopic;
  let route: ReplyRoute | undefined;
  if (replyTo !== undefined && replyTo !== "") {
    const a = replyTo.startsWith("/") ? parseAddress(replyTo) : undefined;
    route = {
      topic: replyTo,
      qos: 1,
      errorForm: "property",
      ...(p.correlationData === undefined ? {} : { correlationData: p.correlationData }),
      ...(a?.kind === "queue" && !a.name.startsWith("$")
        ? {
            deliver: (m: Message) => {
              const q = conn.router.queues.find(a.name);
              if (q && !q.isDeleted) q.publish(m);
            },
          }
        : {}),
    };
  }
  const principal = conn.principal;
  if (!isValidProcedure(procedure))
    bridge.refuse(route, INVALID_URI, { args: [`invalid procedure '${procedure}'`] });
  else if (principal && !conn.router.auth.authorize(principal, "call", procedure))
    bridge.refuse(route, NOT_AUTHORIZED);
  else bridge.call(procedure, message.payload, p, route);
}
