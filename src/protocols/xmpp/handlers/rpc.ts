/**
 * `<iq type='set'><call xmlns='urn:switchboard:rpc' procedure='...'>` to the server: a routed RPC call
 * through the core Dealer (docs/rpc.md "XMPP"), answered by a WAMP or MQTT 5 callee. The iq's result
 * carries `<result xmlns='urn:switchboard:rpc'/>`; an error is a stanza error whose condition follows
 * the error URI, with the URI in `<text/>` and `<error xmlns='urn:switchboard:rpc' uri='...'/>`
 * carrying its args and kwargs (rpc/caller.ts, rpc/payload.ts).
 */
import { INVALID_URI, isValidProcedure, NOT_AUTHORIZED } from "../../../core/rpc-bridge.js";
import type { BoundResource } from "../resource.js";
import { INVALID_ARGUMENT, XmppRpcCaller } from "../rpc/caller.js";
import { callArgs } from "../rpc/payload.js";
import type { Element } from "../xml/element.js";

export function handleRpcCall(r: BoundResource, iq: Element, call: Element): void {
  r.rpcCaller ??= new XmppRpcCaller(r.hub.router, r);
  const caller = r.rpcCaller;
  const procedure = call.attr("procedure");
  if (procedure === undefined || !isValidProcedure(procedure)) {
    const why =
      procedure === undefined ? "the call has no procedure attribute" : `invalid procedure '${procedure}'`;
    caller.fail(iq, INVALID_URI, { args: [why] });
    return;
  }
  // The ACL's `call` action, as for every protocol, for the principal of the stream that sent it.
  const principal = r.conn?.principal;
  if (principal === undefined || !r.hub.router.auth.authorize(principal, "call", procedure)) {
    caller.fail(iq, NOT_AUTHORIZED, {});
    return;
  }
  const args = callArgs(call);
  if ("malformed" in args) {
    caller.fail(iq, INVALID_ARGUMENT, { args: [args.malformed] });
    return;
  }
  caller.call(iq, procedure, args);
}
