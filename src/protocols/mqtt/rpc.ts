/**
 * Routed RPC over MQTT (docs/rpc.md "MQTT"), on the core RpcBridge:
 * - a call is a PUBLISH to `$rpc/<procedure>`: with a Response Topic (MQTT 5) the answer goes there
 *   with the same Correlation Data, an error with the user property `error`; or, in the path form
 *   `$rpc/<procedure>/<reply topic...>` (MQTT 3.1.1 and 5), a result goes to the reply topic and an
 *   error to `<reply topic>/error` as JSON `{"error", "args", "kwargs"}`;
 * - an MQTT 5 client SUBSCRIBEs to `$rpc/<procedure>` (`$share/<group>/$rpc/<procedure>`: shared,
 *   roundrobin) to register it; an invocation arrives as a PUBLISH on `$rpc/<procedure>` with the
 *   Response Topic `$rpc-reply/<id>`, and the callee answers with a PUBLISH there.
 * Neither is a topic subscription or a routed publish.
 */
import { RpcError } from "../../core/dealer/index.js";
import {
  INVALID_URI,
  isValidProcedure,
  NOT_AUTHORIZED,
  type ReplyRoute,
  RPC_PREFIX,
  RPC_REPLY_PREFIX,
  RpcBridge,
  TOO_MANY_CALLS,
} from "../../core/rpc-bridge.js";
import { SHARE_PREFIX } from "../../core/topic.js";
import { type PublishPacket, ReasonCode } from "./codec/packets.js";
import type { MqttConnection } from "./connection.js";
import { propertiesFromMqtt } from "./message-mapping.js";
import { sendDirect } from "./outgoing.js";

/** The connection's Caller/Callee, made on first use. */
export function bridgeOf(c: MqttConnection): RpcBridge {
  if (c.rpc === undefined) {
    c.rpc = new RpcBridge(c.router, c.session!, { invoke: (m) => sendDirect(c, m) });
  }
  return c.rpc;
}

/** True for topics the RPC layer owns: `$rpc/...` and `$rpc-reply/...`. */
export function isRpcTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 0x24 && (topic.startsWith(RPC_PREFIX) || topic.startsWith(RPC_REPLY_PREFIX));
}

/**
 * A PUBLISH on an RPC topic (isRpcTopic): a call or a callee's answer. Returns the reason code
 * for the PUBACK/PUBREC, with a reason string for a failure.
 */
export function handleRpcPublish(c: MqttConnection, p: PublishPacket, topic: string): [number, string?] {
  const now = Date.now();
  const bridge = bridgeOf(c);
  if (topic.startsWith(RPC_REPLY_PREFIX)) {
    const ok = bridge.answer(topic, p.payload, propertiesFromMqtt(p.properties, now));
    return ok ? [ReasonCode.Success] : [ReasonCode.NoMatchingSubscribers];
  }
  const rest = topic.slice(RPC_PREFIX.length);
  const slash = rest.indexOf("/");
  const procedure = slash < 0 ? rest : rest.slice(0, slash);
  const props = p.properties;
  let reply: ReplyRoute | undefined;
  if (slash >= 0) {
    const to = rest.slice(slash + 1);
    if (to.length > 0)
      reply = { topic: to, correlationData: props?.correlationData, qos: p.qos, errorForm: "json" };
  } else if (props?.responseTopic !== undefined) {
    const cd = props.correlationData;
    reply = { topic: props.responseTopic, correlationData: cd, qos: p.qos, errorForm: "property" };
  }
  if (!isValidProcedure(procedure)) {
    bridge.refuse(reply, INVALID_URI);
    return [ReasonCode.TopicNameInvalid, `invalid procedure '${procedure}'`];
  }
  const auth = c.router.auth;
  const principal = c.principal!;
  // The router publishes the answer for the caller: the caller must be allowed to publish there.
  if (
    !auth.authorize(principal, "call", procedure) ||
    (reply && !auth.authorize(principal, "publish", reply.topic))
  ) {
    c.log.debug("mqtt: call not authorized", { clientId: c.session!.clientId, procedure });
    bridge.refuse(reply, NOT_AUTHORIZED);
    return [ReasonCode.NotAuthorized, `not authorized to call ${procedure}`];
  }
  // QoS 0 without a reply topic: made, the answer dropped. QoS 1/2: refused, the client learns why.
  if (reply === undefined && p.qos > 0) {
    return [ReasonCode.ImplementationSpecificError, "a call needs a response topic"];
  }
  const r = bridge.call(procedure, p.payload, propertiesFromMqtt(props, now), reply);
  if (r instanceof RpcError && r.uri === TOO_MANY_CALLS)
    return [ReasonCode.QuotaExceeded, "too many pending calls"];
  // The answer (even an immediate error) went to the reply topic: the call itself was accepted.
  return r instanceof RpcError && reply === undefined
    ? [ReasonCode.ImplementationSpecificError, r.uri]
    : [ReasonCode.Success];
}

/** The procedure and invocation policy of a registering filter, or undefined when it is not one. */
export function registrationOf(filter: string): { procedure: string; shared: boolean } | undefined {
  if (filter.startsWith(RPC_PREFIX)) return { procedure: filter.slice(RPC_PREFIX.length), shared: false };
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const rest = filter.slice(SHARE_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0 || !rest.startsWith(RPC_PREFIX, slash + 1)) return undefined;
  return { procedure: rest.slice(slash + 1 + RPC_PREFIX.length), shared: true };
}

/** SUBSCRIBE to `$rpc/<procedure>`: registers this client as a callee. Returns the SUBACK code. */
export function rpcSubscribe(c: MqttConnection, filter: string, procedure: string, shared: boolean): number {
  if (c.version !== 5) return ReasonCode.ImplementationSpecificError; // no Response Topic to answer on
  if (!isValidProcedure(procedure)) return ReasonCode.TopicFilterInvalid;
  if (!c.router.auth.authorize(c.principal!, "register", procedure)) return ReasonCode.NotAuthorized;
  c.rpcRegistrations ??= new Map();
  if (c.rpcRegistrations.has(filter)) return ReasonCode.Success;
  const reg = c.router.dealer.register(bridgeOf(c), procedure, "exact", shared ? "roundrobin" : "single");
  if (reg instanceof RpcError) {
    c.log.debug("mqtt: register refused", { procedure, error: reg.uri });
    return ReasonCode.ImplementationSpecificError;
  }
  c.rpcRegistrations.set(filter, reg.id);
  return ReasonCode.Success;
}

/** UNSUBSCRIBE from a registering filter: unregisters. Undefined when `filter` is not one. */
export function rpcUnsubscribe(c: MqttConnection, filter: string): boolean | undefined {
  if (registrationOf(filter) === undefined) return undefined;
  const id = c.rpcRegistrations?.get(filter);
  if (id === undefined || c.rpc === undefined) return false;
  c.rpcRegistrations!.delete(filter);
  return c.router.dealer.unregister(c.rpc, id);
}
