/**
 * A joined WAMP session as the Dealer sees it: a Caller (RESULT, ERROR) and a Callee (INVOCATION,
 * INTERRUPT). One per session, so the Dealer always has the session it was created for.
 */
import type {
  Callee,
  Caller,
  CancelMode,
  EndpointState,
  PendingCall,
  RpcPayload,
} from "../../core/dealer/index.js";
import { authIdOf, authRoleOf } from "../../core/recipients.js";
import type { Session } from "../../core/session.js";
import { type Dict, MessageType } from "./codec/messages.js";
import { appendPayload, type WampConnection } from "./connection.js";

const NO_DETAILS: Dict = Object.freeze({}) as Dict;
const PROGRESS: Dict = Object.freeze({ progress: true }) as Dict;

export class RpcEndpoint implements Caller, Callee {
  rpc?: EndpointState;

  constructor(
    readonly conn: WampConnection,
    readonly session: Session,
  ) {}

  get canCancel(): boolean {
    return this.conn.canCancel;
  }

  result(call: PendingCall, payload: RpcPayload, progress: boolean): void {
    const msg: unknown[] = [MessageType.RESULT, call.requestId, progress ? PROGRESS : NO_DETAILS];
    appendPayload(msg, payload);
    this.conn.send(msg);
  }

  error(call: PendingCall, uri: string, payload: RpcPayload): void {
    this.conn.sendError(MessageType.CALL, call.requestId, uri, payload);
  }

  invoke(call: PendingCall): void {
    const details: Dict = {};
    if (call.registration.match !== "exact") details.procedure = call.procedure;
    if (call.options.receiveProgress && this.conn.progressiveResults) details.receive_progress = true;
    if (call.options.timeoutMs > 0) details.timeout = call.options.timeoutMs;
    if (call.options.discloseCaller) {
      const s = call.caller.session;
      details.caller = s.id;
      details.caller_authid = authIdOf(s);
      details.caller_authrole = authRoleOf(s);
    }
    const msg: unknown[] = [MessageType.INVOCATION, call.id, call.registration.id, details];
    appendPayload(msg, call.payload);
    this.conn.send(msg);
  }

  interrupt(call: PendingCall, mode: CancelMode, reason: string): void {
    this.conn.send([MessageType.INTERRUPT, call.id, { mode, reason }]);
  }
}
