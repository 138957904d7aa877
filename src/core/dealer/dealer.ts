/**
 * The Dealer (DESIGN.md "Dealer"): routed RPC, protocol-independent. A callee registers a procedure
 * (exact, prefix or wildcard; shared with an invocation policy), a caller calls it, the Dealer picks
 * the callee, forwards the invocation and routes the result, progressive results, errors, timeouts
 * and cancellation back. Adapters implement Caller and Callee for their wire; arguments are plain
 * values (a list and a dict), whatever the protocol that carries them.
 */
import type { Session } from "../session.js";
import { type MatchPolicy, PatternRegistry } from "./registry.js";

export type InvokePolicy = "single" | "roundrobin" | "random" | "first" | "last";
export type CancelMode = "skip" | "kill" | "killnowait";

export const INVOKE_POLICIES: readonly InvokePolicy[] = ["single", "roundrobin", "random", "first", "last"];
export const CANCEL_MODES: readonly CancelMode[] = ["skip", "kill", "killnowait"];

/** Error URIs the Dealer produces (WAMP's own names, used by every protocol's mapping). */
export const RpcErrors = {
  noSuchProcedure: "wamp.error.no_such_procedure",
  procedureAlreadyExists: "wamp.error.procedure_already_exists",
  differentPolicy: "wamp.error.procedure_exists_with_different_invocation_policy",
  noSuchRegistration: "wamp.error.no_such_registration",
  canceled: "wamp.error.canceled",
  timeout: "wamp.error.timeout",
} as const;

export interface RpcPayload {
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

/** An error with a URI and a payload, thrown by internal procedures and returned by the Dealer. */
export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    readonly uri: string,
    readonly payload: RpcPayload = {},
  ) {
    super(uri);
  }
}

export interface CallOptions {
  /** Dealer-side timeout in ms; 0 = none. */
  timeoutMs: number;
  /** The caller accepts progressive results. */
  receiveProgress: boolean;
  /** Disclose the caller's identity to the callee. */
  discloseCaller: boolean;
}

/** Per endpoint bookkeeping, created by the Dealer on first use. */
export interface EndpointState {
  /** As caller: pending calls by the caller's request id. */
  calls: Map<number, PendingCall>;
  /** As callee: invocations waiting for an answer, by invocation id. */
  invocations: Map<number, PendingCall>;
  registrations: Set<Registration>;
}

export interface Endpoint {
  readonly session: Session;
  /** Managed by the Dealer; adapters leave it alone. */
  rpc?: EndpointState;
}

export interface Callee extends Endpoint {
  /** The callee understands INTERRUPT (call canceling); without it kill modes degrade to skip. */
  readonly canCancel: boolean;
  invoke(call: PendingCall): void;
  interrupt(call: PendingCall, mode: CancelMode, reason: string): void;
}

export interface Caller extends Endpoint {
  result(call: PendingCall, payload: RpcPayload, progress: boolean): void;
  error(call: PendingCall, uri: string, payload: RpcPayload): void;
}

export class Registration {
  readonly callees: Callee[] = [];
  readonly created = new Date();
  rr = 0;
  constructor(
    readonly id: number,
    readonly procedure: string,
    readonly match: MatchPolicy,
    readonly invoke: InvokePolicy,
  ) {}
}

export type CallState = "pending" | "killing" | "abandoned";

export class PendingCall {
  timer: NodeJS.Timeout | undefined = undefined;
  state: CallState = "pending";
  constructor(
    /** The invocation id (router-chosen, unique). */
    readonly id: number,
    readonly requestId: number,
    readonly caller: Caller,
    readonly callee: Callee,
    readonly registration: Registration,
    readonly procedure: string,
    readonly payload: RpcPayload,
    readonly options: CallOptions,
  ) {}
}

/** A procedure the router implements itself (meta API); returns the result or throws RpcError. */
export type InternalProcedure = (payload: RpcPayload, caller: Session) => RpcPayload;

export interface DealerEvents {
  onCreate?(reg: Registration, session: Session): void;
  onRegister?(reg: Registration, session: Session): void;
  onUnregister?(reg: Registration, session: Session): void;
  onDelete?(reg: Registration, session: Session): void;
}

function stateOf(e: Endpoint): EndpointState {
  if (e.rpc === undefined) e.rpc = { calls: new Map(), invocations: new Map(), registrations: new Set() };
  return e.rpc;
}

export class Dealer {
  private readonly registry = new PatternRegistry<Registration>();
  private readonly byId = new Map<number, Registration>();
  private readonly internal = new Map<string, InternalProcedure>();
  private readonly listeners: DealerEvents[] = [];
  private nextRegistrationId = 0;
  private nextInvocationId = 0;
  /** Timeout (ms) of calls from protocols that cannot ask for one (config rpc.timeoutMs); 0 = none. */
  defaultTimeoutMs = 30_000;
  /** Calls one connection of those protocols may have pending (config rpc.maxPendingCalls). */
  maxPendingCalls = 1000;

  /** Procedures served by the router itself; they win over every registration. */
  addInternal(procedure: string, fn: InternalProcedure): void {
    this.internal.set(procedure, fn);
  }

  listen(events: DealerEvents): void {
    this.listeners.push(events);
  }

  register(
    callee: Callee,
    procedure: string,
    match: MatchPolicy,
    invoke: InvokePolicy,
  ): Registration | RpcError {
    if (match === "exact" && this.internal.has(procedure))
      return new RpcError(RpcErrors.procedureAlreadyExists);
    let reg = this.registry.get(procedure, match);
    const created = reg === undefined;
    if (reg === undefined) {
      reg = new Registration(++this.nextRegistrationId, procedure, match, invoke);
      this.registry.add(reg);
      this.byId.set(reg.id, reg);
    } else if (reg.callees.includes(callee) || reg.invoke === "single" || invoke === "single") {
      return new RpcError(RpcErrors.procedureAlreadyExists);
    } else if (reg.invoke !== invoke) {
      return new RpcError(RpcErrors.differentPolicy);
    }
    reg.callees.push(callee);
    stateOf(callee).registrations.add(reg);
    for (const l of this.listeners) {
      if (created) l.onCreate?.(reg, callee.session);
      l.onRegister?.(reg, callee.session);
    }
    return reg;
  }

  /** Removes `callee` from the registration `id`; false when it is not one of its callees. */
  unregister(callee: Callee, id: number): boolean {
    const reg = this.byId.get(id);
    if (reg === undefined || !callee.rpc?.registrations.has(reg)) return false;
    this.detachCallee(reg, callee);
    return true;
  }

  private detachCallee(reg: Registration, callee: Callee): void {
    callee.rpc?.registrations.delete(reg);
    const i = reg.callees.indexOf(callee);
    if (i >= 0) reg.callees.splice(i, 1);
    const gone = reg.callees.length === 0;
    if (gone) {
      this.registry.delete(reg);
      this.byId.delete(reg.id);
    }
    for (const l of this.listeners) {
      l.onUnregister?.(reg, callee.session);
      if (gone) l.onDelete?.(reg, callee.session);
    }
  }

  /**
   * Routes a call. Returns an RpcError the adapter sends back at once (no such procedure, or an
   * internal procedure's error); otherwise the answer comes through `caller.result`/`caller.error`.
   */
  call(
    caller: Caller,
    requestId: number,
    procedure: string,
    payload: RpcPayload,
    options: CallOptions,
  ): RpcError | RpcPayload | undefined {
    const fn = this.internal.get(procedure);
    if (fn !== undefined) {
      try {
        return fn(payload, caller.session);
      } catch (err) {
        if (err instanceof RpcError) return err;
        throw err;
      }
    }
    const reg = this.registry.best(procedure);
    if (reg === undefined) return new RpcError(RpcErrors.noSuchProcedure);
    const callee = pick(reg);
    const call = new PendingCall(
      ++this.nextInvocationId,
      requestId,
      caller,
      callee,
      reg,
      procedure,
      payload,
      options,
    );
    stateOf(caller).calls.set(requestId, call);
    stateOf(callee).invocations.set(call.id, call);
    if (options.timeoutMs > 0) call.timer = setTimeout(this.onTimeout, options.timeoutMs, call);
    callee.invoke(call);
    return undefined;
  }

  private readonly onTimeout = (call: PendingCall): void => {
    call.timer = undefined;
    if (call.state !== "pending" && call.state !== "killing") return;
    this.abandon(call, "killnowait", RpcErrors.timeout);
  };

  /** The caller cancels its call `requestId` (WAMP advanced profile, "Call Canceling"). */
  cancel(caller: Caller, requestId: number, mode: CancelMode): void {
    const call = caller.rpc?.calls.get(requestId);
    if (call === undefined || call.state !== "pending") return;
    if (mode === "kill" && call.callee.canCancel) {
      call.state = "killing";
      call.callee.interrupt(call, "kill", RpcErrors.canceled);
      return;
    }
    this.abandon(call, call.callee.canCancel ? mode : "skip", RpcErrors.canceled);
  }

  /**
   * Ends the call for its caller now with `uri`; the callee is interrupted (killnowait) when it can
   * be, and its late answer is dropped.
   */
  private abandon(call: PendingCall, mode: CancelMode, uri: string): void {
    this.clearTimer(call);
    call.state = "abandoned";
    call.caller.rpc?.calls.delete(call.requestId);
    if (mode !== "skip" && call.callee.canCancel) call.callee.interrupt(call, "killnowait", uri);
    call.caller.error(call, uri, {});
  }

  /** A callee answered: a (progressive) result. */
  yield(callee: Callee, invocationId: number, payload: RpcPayload, progress: boolean): void {
    const call = callee.rpc?.invocations.get(invocationId);
    if (call === undefined) return;
    if (progress) {
      if (call.state !== "abandoned" && call.options.receiveProgress) call.caller.result(call, payload, true);
      return;
    }
    this.finish(call);
    if (call.state !== "abandoned") call.caller.result(call, payload, false);
  }

  /** A callee answered with an error; it reaches the caller with its URI, args and kwargs. */
  calleeError(callee: Callee, invocationId: number, uri: string, payload: RpcPayload): void {
    const call = callee.rpc?.invocations.get(invocationId);
    if (call === undefined) return;
    this.finish(call);
    if (call.state !== "abandoned") call.caller.error(call, uri, payload);
  }

  private finish(call: PendingCall): void {
    this.clearTimer(call);
    call.callee.rpc?.invocations.delete(call.id);
    if (call.state !== "abandoned") call.caller.rpc?.calls.delete(call.requestId);
  }

  private clearTimer(call: PendingCall): void {
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
  }

  /**
   * The endpoint's session ended: its registrations go, callers waiting on it get
   * wamp.error.canceled, and its own pending calls are abandoned (their callees interrupted).
   */
  leave(endpoint: Caller & Callee): void {
    const st = endpoint.rpc;
    if (st === undefined) return;
    for (const reg of [...st.registrations]) this.detachCallee(reg, endpoint);
    for (const call of st.invocations.values()) {
      this.clearTimer(call);
      if (call.state === "abandoned") continue;
      call.state = "abandoned";
      call.caller.rpc?.calls.delete(call.requestId);
      call.caller.error(call, RpcErrors.canceled, { args: ["callee disconnected"] });
    }
    st.invocations.clear();
    for (const call of st.calls.values()) {
      this.clearTimer(call);
      call.state = "abandoned";
      if (call.callee !== endpoint && call.callee.canCancel)
        call.callee.interrupt(call, "killnowait", RpcErrors.canceled);
    }
    st.calls.clear();
  }

  // ---- registration meta API (wamp.registration.*) ----------------------------------------------

  registration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  lookup(procedure: string, match: MatchPolicy): Registration | undefined {
    return this.registry.get(procedure, match);
  }

  /** The registration a call to `procedure` would reach. */
  match(procedure: string): Registration | undefined {
    return this.registry.best(procedure);
  }

  registrations(): Registration[] {
    return [...this.registry.values()];
  }
}

function pick(reg: Registration): Callee {
  const c = reg.callees;
  switch (reg.invoke) {
    case "roundrobin":
      return c[reg.rr++ % c.length]!;
    case "random":
      return c[Math.floor(Math.random() * c.length)]!;
    case "last":
      return c[c.length - 1]!;
    default:
      return c[0]!;
  }
}
