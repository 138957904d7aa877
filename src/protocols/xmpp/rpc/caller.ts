/**
 * A bound resource as the Dealer's caller (docs/rpc.md "XMPP"): each pending call remembers the
 * `<iq type='set'/>` that made it, and its answer is that iq's result or error reply. One per
 * resource, made on its first call; when the resource ends, `leave()` abandons its pending calls
 * (their callees are interrupted when they can be, late answers are dropped).
 */
import type { Callee, Caller, EndpointState, PendingCall, RpcPayload } from "../../../core/dealer/index.js";
import { RpcError, RpcErrors } from "../../../core/dealer/index.js";
import type { Router } from "../../../core/router.js";
import { INVALID_URI, NOT_AUTHORIZED, TOO_MANY_CALLS } from "../../../core/rpc-bridge.js";
import { Session } from "../../../core/session.js";
import type { BoundResource } from "../resource.js";
import { errorReply, iqResult, type StanzaErrorCondition } from "../stanza-error.js";
import type { Element } from "../xml/element.js";
import { payloadElement } from "./payload.js";

export const INVALID_ARGUMENT = "wamp.error.invalid_argument";

/**
 * The stanza error condition (RFC 6120 §8.3.3) per error URI. Any other URI is the callee's
 * application error: undefined-condition, which §8.3.3.21 reserves for use with an
 * application-specific condition — here the `<error xmlns='urn:switchboard:rpc' uri='...'/>`.
 */
export const ERROR_CONDITIONS: Readonly<Record<string, StanzaErrorCondition>> = {
  [RpcErrors.noSuchProcedure]: "item-not-found",
  [NOT_AUTHORIZED]: "forbidden",
  [RpcErrors.timeout]: "remote-server-timeout",
  [RpcErrors.canceled]: "recipient-unavailable",
  [INVALID_URI]: "bad-request",
  [INVALID_ARGUMENT]: "bad-request",
  [TOO_MANY_CALLS]: "resource-constraint",
};

export class XmppRpcCaller implements Caller, Callee {
  rpc?: EndpointState;
  readonly canCancel = false;
  readonly session: Session;
  private nextRequest = 0;
  /** The request iq of each pending call, by request id. */
  private readonly pending = new Map<number, Element>();

  constructor(
    private readonly router: Router,
    private readonly resource: BoundResource,
  ) {
    this.session = new Session(`xmpp:${resource.jid}/rpc`, "xmpp");
  }

  /** Makes the call `iq` asks for; the reply is sent now (an immediate error) or when the callee answers. */
  call(iq: Element, procedure: string, args: RpcPayload): void {
    const dealer = this.router.dealer;
    if (this.pending.size >= dealer.maxPendingCalls) {
      this.fail(iq, TOO_MANY_CALLS, { args: [`at most ${dealer.maxPendingCalls} pending calls`] });
      return;
    }
    const requestId = ++this.nextRequest;
    this.pending.set(requestId, iq);
    const r = dealer.call(this, requestId, procedure, args, {
      timeoutMs: dealer.defaultTimeoutMs,
      receiveProgress: false,
      discloseCaller: false,
    });
    if (r === undefined) return;
    this.pending.delete(requestId);
    // An internal procedure (meta API) answers at once; so does "no such procedure".
    if (r instanceof RpcError) this.fail(iq, r.uri, r.payload);
    else this.succeed(iq, r);
  }

  /** `<iq type='result'>` with `<result xmlns='urn:switchboard:rpc'>`. */
  succeed(iq: Element, payload: RpcPayload): void {
    this.resource.send(iqResult(iq, payloadElement("result", payload)));
  }

  /** `<iq type='error'>`: the condition for `uri`, the URI as text, and the rpc `<error uri>` with the args. */
  fail(iq: Element, uri: string, payload: RpcPayload): void {
    const condition = ERROR_CONDITIONS[uri] ?? "undefined-condition";
    this.resource.send(errorReply(iq, condition, uri, payloadElement("error", payload, { uri })));
  }

  // ---- Caller ----------------------------------------------------------------------------------

  result(call: PendingCall, payload: RpcPayload, progress: boolean): void {
    if (progress) return;
    const iq = this.take(call);
    if (iq) this.succeed(iq, payload);
  }

  error(call: PendingCall, uri: string, payload: RpcPayload): void {
    const iq = this.take(call);
    if (iq) this.fail(iq, uri, payload);
  }

  private take(call: PendingCall): Element | undefined {
    const iq = this.pending.get(call.requestId);
    this.pending.delete(call.requestId);
    return iq;
  }

  // ---- Callee (in type only: an XMPP client never registers) -----------------------------------

  invoke(): void {}
  interrupt(): void {}

  /** The resource ended: its pending calls are abandoned without an answer (nobody to send it to). */
  leave(): void {
    this.pending.clear();
    this.router.dealer.leave(this);
  }
}
