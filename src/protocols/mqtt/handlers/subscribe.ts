/** SUBSCRIBE (§3.8): validate each filter, authorize, subscribe, SUBACK, then retained messages. */
import { subscribeScope } from "../../../core/auth.js";
import type { Message } from "../../../core/message.js";
import { minQoS } from "../../../core/router.js";
import { compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import type { Subscription } from "../../../core/session.js";
import { isSharedFilter, validateSharedFilter, validateTopicFilter } from "../../../core/topic.js";
import { ReasonCode, type SubscribePacket, type Subscription as WireSubscription } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import { registrationOf, rpcSubscribe } from "../rpc.js";

const FAILURE_V4 = 0x80;

export function handleSubscribe(c: MqttConnection, p: SubscribePacket): void {
  const session = c.session!;
  const ids = p.properties?.subscriptionIdentifiers;
  const subscriptionId = ids?.[0];
  // A Subscription Identifier of 0 is a protocol error ([MQTT-3.8.2-?], §3.8.2.1.2).
  if (subscriptionId === 0) return c.protocolError(ReasonCode.ProtocolError, "subscription identifier 0");

  // Content filter: the user property `filter` applies to every subscription of the packet
  // (docs/filters.md); one that does not parse refuses them all with 0x83 and the reason.
  const selector = selectorOf(p.properties?.userProperties);
  if (selector !== undefined) {
    try {
      compileSelector(selector);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      c.log.debug("mqtt: bad filter", { filter: selector, error: err.message });
      return c.send({
        cmd: "suback",
        packetId: p.packetId,
        reasonCodes: p.subscriptions.map(() => ReasonCode.ImplementationSpecificError),
        properties: c.reasonString(`invalid filter: ${err.message}`),
      });
    }
  }
  const codes: number[] = [];
  const retainedToSend: Array<{ sub: Subscription; messages: Message[] }> = [];
  for (const w of p.subscriptions) {
    const code = subscribeOne(c, w, subscriptionId, selector, retainedToSend);
    if (code === undefined) return; // the connection was closed
    codes.push(c.version === 5 || code < 0x80 ? code : FAILURE_V4);
  }
  c.send({ cmd: "suback", packetId: p.packetId, reasonCodes: codes });
  // Retained messages go out after the SUBACK, flagged retain ([MQTT-3.3.1-9]).
  for (const { sub, messages } of retainedToSend) {
    for (const m of messages) {
      c.router.stats.messagesSent++;
      c.deliver(m, minQoS(m.qos, sub.options.qos), true, sub);
    }
  }
  if (session.persistent) c.router.saveSession(session);
}

function subscribeOne(
  c: MqttConnection,
  w: WireSubscription,
  subscriptionId: number | undefined,
  selector: string | undefined,
  retainedToSend: Array<{ sub: Subscription; messages: Message[] }>,
): number | undefined {
  const o = c.options;
  // `$rpc/<procedure>` registers a callee (docs/rpc.md); it is not a topic subscription.
  const rpc = registrationOf(w.topic);
  if (rpc !== undefined) {
    const code = rpcSubscribe(c, w.topic, rpc.procedure, rpc.shared);
    return code === ReasonCode.Success ? minQoS(w.qos, o.maxQoS) : code;
  }
  const shared = isSharedFilter(w.topic);
  const bad = shared
    ? validateSharedFilter(w.topic, o.maxTopicLevels)
    : validateTopicFilter(w.topic, o.maxTopicLevels);
  if (bad) {
    c.log.debug("mqtt: bad topic filter", { filter: w.topic, reason: bad });
    return ReasonCode.TopicFilterInvalid;
  }
  // No Local on a shared subscription is a protocol error ([MQTT-3.8.3-4]).
  if (shared && w.noLocal) {
    c.protocolError(ReasonCode.ProtocolError, "no local on a shared subscription");
    return undefined;
  }
  const scope = subscribeScope(c.router.auth, c.principal!, w.topic);
  if (scope === "none") {
    c.log.debug("mqtt: subscribe not authorized", { clientId: c.session!.clientId, filter: w.topic });
    return ReasonCode.NotAuthorized;
  }
  if (scope === "some") c.readChecked = true;
  const qos = minQoS(w.qos, o.maxQoS);
  const { sub, existed } = c.router.subscribe(c.session!, w.topic, {
    qos,
    noLocal: w.noLocal,
    retainAsPublished: w.retainAsPublished,
    retainHandling: w.retainHandling,
    subscriptionId,
    ...(selector === undefined ? {} : { selector }),
  });
  // Retain Handling 0: always send; 1: only for a new subscription; 2: never ([MQTT-3.3.1-9..11]).
  // Retained messages are never sent for a shared subscription (§4.8.2).
  const wanted = !shared && (w.retainHandling === 0 || (w.retainHandling === 1 && !existed));
  if (wanted) {
    // A partly allowed subscription has set readChecked above: deliver() applies the per-message
    // ACL check to these as to every other message, so they are not filtered twice here.
    const messages: Message[] = [];
    const sel = sub.selector;
    c.router.retainedMatching(sub.topicFilter, (m) => {
      if (sel === undefined || c.router.selectors.selects(sel, m)) messages.push(m);
    });
    if (messages.length > 0) retainedToSend.push({ sub, messages });
  }
  return qos;
}

/** The first user property `filter` of a SUBSCRIBE (MQTT 5 only: 3.1.1 has no properties). */
function selectorOf(ups: ReadonlyArray<[string, string]> | undefined): string | undefined {
  if (ups === undefined) return undefined;
  for (const [k, v] of ups) if (k === "filter") return v;
  return undefined;
}
