/**
 * One WAMP transport connection: the session state machine (WAMP §7 "Session Lifecycle") that maps
 * messages to core calls. The handlers live in handlers/ (session establishment, PubSub, RPC); this
 * class owns the state, the sending, and the three faces the core sees: a SessionConnection for
 * the Router (events), a Caller and a Callee for the Dealer.
 */

import type { Principal } from "../../core/auth.js";
import type { RpcPayload } from "../../core/dealer/index.js";
import type { Message, QoS } from "../../core/message.js";
import type { CompiledSelector } from "../../core/selector/compile.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";
import { checkMessage, type Dict, type InboundMessage, MessageType, WampError } from "./codec/messages.js";
import type { Serializer } from "./codec/serializers.js";
import type { WampContext } from "./context.js";
import { encodeEvent, eventInfo, eventPayload } from "./events.js";
import { handleMessage } from "./handlers/dispatch.js";
import type { RpcEndpoint } from "./rpc-endpoint.js";
import type { WampSubscription } from "./subscriptions.js";
import type { WampTransport } from "./transport.js";

export type WampState = "hello" | "authenticating" | "challenged" | "joined" | "closing" | "closed";

/** A pending CHALLENGE: what the AUTHENTICATE must answer. */
export interface PendingChallenge {
  method: "ticket" | "wampcra";
  realm: string;
  authid: string;
  authrole: string;
  /** wampcra: the expected signature. */
  expected?: Buffer;
  details: Dict;
}

const CLOSE_URIS: Record<CloseReason, string> = {
  "taken-over": WampError.killed,
  shutdown: WampError.systemShutdown,
  "session-expired": WampError.killed,
  administrative: WampError.killed,
};

export class WampConnection implements SessionConnection {
  state: WampState = "hello";
  session: Session | undefined;
  principal: Principal | undefined;
  realm = "";
  info: ConnectionInfo;
  /** The client's roles and features from HELLO. */
  roles: Dict = {};
  canCancel = false;
  progressiveResults = false;
  challenge: PendingChallenge | undefined;
  /** The session's face towards the Dealer (caller and callee), from WELCOME on. */
  endpoint: RpcEndpoint | undefined;
  /** This session's subscriptions by id, and by the core filter they occupy. */
  readonly subscriptions = new Map<number, WampSubscription>();
  readonly byFilter = new Map<string, WampSubscription[]>();
  /** Filters whose ACL scope is "some": each event is checked against the ACL. */
  partlyAllowed: Set<string> | undefined;
  /** Content filters (subscribe option `filter`, docs/filters.md) by subscription id; created on first use. */
  filters: Map<number, CompiledSelector> | undefined;
  /** Events dropped because the client read too slowly. */
  dropped = 0;
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ctx: WampContext,
    readonly transport: WampTransport,
    readonly serializer: Serializer,
    remote: { address: string; port: number },
  ) {
    this.info = {
      protocol: "wamp",
      protocolVersion: "2",
      remoteAddress: remote.address,
      remotePort: remote.port,
      transport: `${transport.kind}/${serializer.name}`,
      connectedAt: Date.now(),
    };
    this.helloTimer = setTimeout(this.onHelloTimeout, ctx.options.helloTimeoutMs);
    this.helloTimer.unref();
    transport.start({
      message: (bytes) => this.onBytes(bytes),
      error: (reason) => this.abort(WampError.protocolViolation, reason),
      close: () => this.onClose(),
    });
  }

  get sessionId(): number {
    return this.session?.id ?? 0;
  }

  get joined(): boolean {
    return this.state === "joined";
  }

  private readonly onHelloTimeout = (): void => {
    this.helloTimer = undefined;
    if (this.state !== "joined" && this.state !== "closed")
      this.abort(WampError.protocolViolation, "no HELLO in time");
  };

  clearHelloTimer(): void {
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  private onBytes(bytes: Buffer): void {
    if (this.state === "closed") return;
    if (bytes.length > this.ctx.options.maxMessageSize) {
      return this.abort(
        WampError.protocolViolation,
        `message of ${bytes.length} bytes exceeds the maximum ${this.ctx.options.maxMessageSize}`,
      );
    }
    let msg: unknown;
    try {
      msg = this.serializer.decode(bytes);
    } catch {
      return this.abort(WampError.protocolViolation, `message is not valid ${this.serializer.name}`);
    }
    const problem = checkMessage(msg);
    if (problem !== undefined) return this.abort(WampError.protocolViolation, problem);
    try {
      handleMessage(this, msg as InboundMessage);
    } catch (err) {
      this.ctx.log.warn("wamp handler failed", { error: (err as Error).message });
      this.abort(WampError.protocolViolation, "the router could not process the message");
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  send(msg: unknown[]): void {
    if (this.state === "closed") return;
    this.sendBytes(this.serializer.encode(msg));
  }

  sendBytes(bytes: Buffer): void {
    if (bytes.length > this.transport.peerMaxLength) {
      this.ctx.log.debug("wamp message larger than the client accepts: dropped", { bytes: bytes.length });
      return;
    }
    this.transport.send(bytes);
  }

  /** ERROR reply to a request (WAMP §6.5 ERROR). */
  sendError(
    requestType: number,
    requestId: number,
    uri: string,
    payload?: RpcPayload,
    details: Dict = {},
  ): void {
    const msg: unknown[] = [MessageType.ERROR, requestType, requestId, details, uri];
    appendPayload(msg, payload);
    this.send(msg);
  }

  /**
   * Ends the session with ABORT (before or after joining, for protocol violations) and closes the
   * transport; the router keeps serving everyone else.
   */
  abort(reason: string, message?: string): void {
    if (this.state === "closed") return;
    this.ctx.log.debug("wamp abort", { reason, message, remote: this.info.remoteAddress });
    this.send([MessageType.ABORT, message !== undefined ? { message } : {}, reason]);
    this.leave();
    this.state = "closed";
    this.transport.close();
  }

  /** Router-initiated GOODBYE (shutdown, kill); the transport closes when the client answers. */
  goodbye(reason: string, message?: string): void {
    if (this.state !== "joined") {
      if (this.state !== "closed") this.abort(reason, message);
      return;
    }
    this.send([MessageType.GOODBYE, message !== undefined ? { message } : {}, reason]);
    this.leave();
    this.state = "closing";
    setTimeout(() => this.destroy(), 1000).unref();
  }

  destroy(): void {
    this.leave();
    this.state = "closed";
    this.transport.destroy();
  }

  /** Ends the session in the core (subscriptions, registrations, pending calls) and the broker. */
  leave(): void {
    this.clearHelloTimer();
    const session = this.session;
    if (session === undefined) return;
    this.ctx.leave(this);
    this.session = undefined;
    this.endpoint = undefined;
    this.ctx.router.detach(session, this);
  }

  private onClose(): void {
    this.leave();
    this.state = "closed";
    this.ctx.forget(this);
  }

  // ---- SessionConnection: events from the Router ------------------------------------------------

  deliver(message: Message, _qos: QoS, retain: boolean, sub: Subscription | undefined): void {
    if (sub === undefined || this.state !== "joined") return;
    const subs = this.byFilter.get(sub.filter);
    if (subs === undefined) return;
    if (
      this.partlyAllowed?.has(sub.filter) &&
      !this.ctx.router.auth.authorize(this.principal!, "subscribe", message.topic)
    ) {
      return;
    }
    if (this.transport.buffered > this.ctx.options.maxBufferedBytes) {
      this.dropped++;
      return;
    }
    const info = eventInfo(message);
    for (let i = 0; i < subs.length; i++) {
      const ws = subs[i]!;
      if (!ws.accepts(info.uri)) continue;
      const sel = this.filters?.get(ws.id);
      if (sel !== undefined && !this.ctx.router.selectors.selects(sel, message)) continue;
      if (ws.history !== undefined)
        this.ctx.subscriptions.record(ws, message, info.publication, eventPayload(info, message));
      this.sendBytes(encodeEvent(message, info, ws, this.serializer, retain));
    }
  }

  drain(): void {}

  close(reason: CloseReason): void {
    this.goodbye(CLOSE_URIS[reason]);
  }
}

/** Appends Arguments|list and ArgumentsKw|dict when present (WAMP §6.5: both optional, in order). */
export function appendPayload(msg: unknown[], p: RpcPayload | undefined): void {
  if (p === undefined) return;
  if (p.kwargs !== undefined) msg.push(p.args ?? [], p.kwargs);
  else if (p.args !== undefined) msg.push(p.args);
}
