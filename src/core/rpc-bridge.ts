/**
 * Routed RPC for protocols that carry messages, not calls (MQTT, STOMP, AMQP, CoAP, XMPP): one
 * Caller and Callee per connection, so an adapter only maps its wire to three things (docs/rpc.md
 * "Adding a protocol"):
 * - a call: `call(procedure, payload, properties, reply)` — the answer is published through the
 *   router to the reply topic (`reply.topic`, the message's response topic / reply-to) with the
 *   caller's correlation data; an error carries the user property `error` = its URI, or, in the
 *   `json` error form, goes to `<reply topic>/error` as `{"error", "args", "kwargs"}`;
 * - an invocation: the adapter's `invoke(message)` sends the message (topic `$rpc/<procedure>`,
 *   response topic `$rpc-reply/<invocation id>`, correlation data = the invocation id) to its client;
 * - an answer: `answer(topic, payload, properties)` for a publish to `$rpc-reply/<id>`.
 * Nothing here knows a wire format.
 */
import type { Callee, Caller, CancelMode, EndpointState, PendingCall, RpcPayload } from "./dealer/index.js";
import { RpcError } from "./dealer/index.js";
import { createMessage, type Message, type MessageProperties, type QoS } from "./message.js";
import type { Router } from "./router.js";
import {
  decodeCallPayload,
  encodeRpcError,
  encodeRpcPayload,
  RPC_ERROR_HEADER,
  rpcErrorJson,
  rpcErrorOf,
} from "./rpc-payload.js";
import type { Session } from "./session.js";

/** Topic prefix of calls (`$rpc/<procedure>`) and, for MQTT callees, of registrations. */
export const RPC_PREFIX = "$rpc/";
/** Topic prefix of the response topics the router gives invocations (`$rpc-reply/<invocation id>`). */
export const RPC_REPLY_PREFIX = "$rpc-reply/";
/** Error URI for a call the ACL refuses. */
export const NOT_AUTHORIZED = "wamp.error.not_authorized";
/** Error URI for a call past the caller's limit of pending calls (rpc.maxPendingCalls). */
export const TOO_MANY_CALLS = "switchboard.error.too_many_calls";
/** Error URI for a call without a valid procedure name. */
export const INVALID_URI = "wamp.error.invalid_uri";

/** Where the answer to one call goes. */
export interface ReplyRoute {
  /** Canonical topic the answer is published to. */
  topic: string;
  correlationData?: Buffer;
  /** QoS of the answer. */
  qos: QoS;
  /**
   * "property": an error is published to `topic` with the user property `error` (MQTT 5, STOMP, AMQP);
   * "json": an error goes to `<topic>/error` as a JSON document (MQTT 3.1.1, no user properties).
   */
  errorForm: "property" | "json";
  /**
   * Hands the answer to the adapter instead of publishing it to `topic` (replies that go to a queue
   * or a connection, not to the topic space: AMQP reply_to queues and direct reply-to).
   */
  deliver?: (message: Message) => void;
}

/** What the adapter does for the bridge: send an invocation to its client. */
export interface InvocationSink {
  invoke(message: Message, call: PendingCall): void;
}

/** Procedure names: WAMP URIs, loose rules (components of anything but whitespace, `.` and `#`/`+`/`/`). */
const PROCEDURE = /^[^\s.#+/]+(\.[^\s.#+/]+)*$/;

export function isValidProcedure(p: string): boolean {
  return PROCEDURE.test(p);
}

export class RpcBridge implements Caller, Callee {
  rpc?: EndpointState;
  readonly canCancel = false;
  private nextRequest = 0;
  private readonly routes = new Map<number, ReplyRoute | undefined>();

  constructor(
    private readonly router: Router,
    readonly session: Session,
    private readonly sink: InvocationSink | undefined,
  ) {}

  /**
   * A call from this client. Authorization is the adapter's (it knows how to refuse on its wire);
   * `reply` undefined: the call is made and its answer dropped. Returns the immediate error, if any
   * (also sent to `reply`), so the adapter can reflect it in its acknowledgement.
   */
  call(
    procedure: string,
    payload: Buffer,
    properties: MessageProperties,
    reply: ReplyRoute | undefined,
    timeoutMs = this.router.dealer.defaultTimeoutMs,
  ): RpcError | undefined {
    if (this.routes.size >= this.router.dealer.maxPendingCalls) {
      const e = new RpcError(TOO_MANY_CALLS, {
        args: [`at most ${this.router.dealer.maxPendingCalls} pending calls`],
      });
      if (reply) this.sendError(reply, e.uri, e.payload);
      return e;
    }
    const requestId = ++this.nextRequest;
    const args = decodeCallPayload(payload, properties);
    this.routes.set(requestId, reply);
    const r = this.router.dealer.call(this, requestId, procedure, args, {
      timeoutMs,
      receiveProgress: false,
      discloseCaller: false,
    });
    if (r === undefined) return undefined;
    this.routes.delete(requestId);
    if (r instanceof RpcError) {
      if (reply) this.sendError(reply, r.uri, r.payload);
      return r;
    }
    if (reply) this.sendResult(reply, r);
    return undefined;
  }

  /** Answers a call at once with an error (refused before reaching the Dealer: ACL, bad name). */
  refuse(reply: ReplyRoute | undefined, uri: string, payload: RpcPayload = {}): void {
    if (reply) this.sendError(reply, uri, payload);
  }

  // ---- Caller --------------------------------------------------------------------------------

  result(call: PendingCall, payload: RpcPayload, progress: boolean): void {
    if (progress) return;
    const route = this.routes.get(call.requestId);
    this.routes.delete(call.requestId);
    if (route) this.sendResult(route, payload);
  }

  error(call: PendingCall, uri: string, payload: RpcPayload): void {
    const route = this.routes.get(call.requestId);
    this.routes.delete(call.requestId);
    if (route) this.sendError(route, uri, payload);
  }

  private sendResult(route: ReplyRoute, payload: RpcPayload): void {
    const e = encodeRpcPayload(payload);
    const properties =
      route.correlationData === undefined
        ? e.properties
        : { ...e.properties, correlationData: route.correlationData };
    this.publish(route, route.topic, e.payload, properties);
  }

  private sendError(route: ReplyRoute, uri: string, payload: RpcPayload): void {
    if (route.errorForm === "json") {
      const props: MessageProperties = { contentType: "application/json" };
      if (route.correlationData !== undefined) props.correlationData = route.correlationData;
      this.publish(route, `${route.topic}/error`, rpcErrorJson(uri, payload), props);
      return;
    }
    const e = encodeRpcError(uri, payload);
    const properties =
      route.correlationData === undefined
        ? e.properties
        : { ...e.properties, correlationData: route.correlationData };
    this.publish(route, route.topic, e.payload, properties);
  }

  private publish(route: ReplyRoute, topic: string, payload: Buffer, properties: MessageProperties): void {
    if (this.router.isClosed) return;
    // Published by the router itself (publisher id ""): a No Local reply subscription still gets it.
    const m = createMessage(topic, payload, route.qos, false, properties, "");
    if (route.deliver) route.deliver(m);
    else this.router.publish(m);
  }

  // ---- Callee --------------------------------------------------------------------------------

  invoke(call: PendingCall): void {
    const e = encodeRpcPayload(call.payload);
    const properties: MessageProperties = {
      ...e.properties,
      responseTopic: `${RPC_REPLY_PREFIX}${call.id}`,
      correlationData: Buffer.from(String(call.id)),
    };
    if (call.options.timeoutMs > 0) properties.expiresAt = Date.now() + call.options.timeoutMs;
    const m = createMessage(`${RPC_PREFIX}${call.procedure}`, e.payload, 0, false, properties, "");
    this.sink?.invoke(m, call);
  }

  interrupt(_call: PendingCall, _mode: CancelMode, _reason: string): void {
    // canCancel is false: the Dealer never asks (a late answer is dropped).
  }

  /**
   * A publish to `$rpc-reply/<id>` from this client: the answer to invocation `id`. With the user
   * property `error` it is an error with that URI, otherwise a result. False when the topic is not
   * an answer to one of this client's pending invocations.
   */
  answer(topic: string, payload: Buffer, properties: MessageProperties): boolean {
    const id = Number(topic.slice(RPC_REPLY_PREFIX.length));
    if (!Number.isSafeInteger(id) || this.rpc?.invocations.has(id) !== true) return false;
    const args = decodeCallPayload(payload, withoutErrorHeader(properties));
    const uri = rpcErrorOf(properties);
    if (uri !== undefined) this.router.dealer.calleeError(this, id, uri, args);
    else this.router.dealer.yield(this, id, args, false);
    return true;
  }

  /** The connection ended: registrations go, pending invocations end with an error for their callers. */
  leave(): void {
    this.routes.clear();
    this.router.dealer.leave(this);
  }
}

function withoutErrorHeader(p: MessageProperties): MessageProperties {
  if (p.userProperties === undefined) return p;
  return { ...p, userProperties: p.userProperties.filter(([k]) => k !== RPC_ERROR_HEADER) };
}
