/** PUBLISH from a client (§3.3): aliases, validation, authorization, routing, PUBACK/PUBREC. */
import { createMessage } from "../../../core/message.js";
import { exceedsLevels, validateTopicName } from "../../../core/topic.js";
import { isValidUtf8 } from "../codec/index.js";
import { type PublishPacket, RAW, ReasonCode } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import { propertiesFromMqtt } from "../message-mapping.js";
import { seedEncoded } from "../outgoing.js";
import { handleRpcPublish, isRpcTopic } from "../rpc.js";

const ACK_PUBACK = 0x40;
const ACK_PUBREC = 0x50;

export function handlePublish(c: MqttConnection, p: PublishPacket): void {
  const session = c.session!;
  const props = p.properties;
  let topic = p.topic;

  if (c.version === 5 && props?.topicAlias !== undefined) {
    const alias = props.topicAlias;
    // Alias 0 or above our Topic Alias Maximum ([MQTT-3.3.2-8], [MQTT-3.3.2-9]).
    if (alias === 0 || alias > c.options.maxTopicAlias) {
      return c.protocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} out of range`);
    }
    if (topic.length > 0) {
      c.inboundAliases.set(alias, topic);
    } else {
      const known = c.inboundAliases.get(alias);
      if (known === undefined)
        return c.protocolError(ReasonCode.ProtocolError, `unknown topic alias ${alias}`);
      topic = known;
    }
  }
  if (topic.length === 0) return c.protocolError(ReasonCode.ProtocolError, "empty topic name");
  // The codec already refused wildcards, U+0000 and invalid UTF-8 in the topic ([MQTT-3.3.2-2],
  // [MQTT-1.5.4-1/2]); the level limit is the only check left, without a second scan of the name.
  if (exceedsLevels(topic, c.options.maxTopicLevels)) {
    return c.protocolError(ReasonCode.TopicNameInvalid, `more than ${c.options.maxTopicLevels} topic levels`);
  }
  // A Response Topic is a topic name: wildcards are a protocol error ([MQTT-3.3.2-14]).
  if (
    props?.responseTopic !== undefined &&
    validateTopicName(props.responseTopic, c.options.maxTopicLevels)
  ) {
    return c.protocolError(ReasonCode.ProtocolError, "invalid response topic");
  }

  if (p.qos > c.options.maxQoS)
    return c.protocolError(ReasonCode.QoSNotSupported, `QoS ${p.qos} not supported`);
  if (p.retain && !c.options.retainAvailable)
    return c.protocolError(ReasonCode.RetainNotSupported, "retain not supported");

  // Our Receive Maximum bounds QoS 1/2 publishes not yet acknowledged ([MQTT-3.3.4-9]).
  if (
    p.qos > 0 &&
    c.version === 5 &&
    c.pendingAckCount + session.incomingQos2.size >= c.options.maxInflight
  ) {
    if (!(p.qos === 2 && session.incomingQos2.has(p.packetId!))) {
      return c.protocolError(ReasonCode.ReceiveMaximumExceeded, "receive maximum exceeded");
    }
  }

  if (props?.payloadFormatIndicator === 1 && !isValidUtf8(p.payload)) {
    if (p.qos === 0) return c.protocolError(ReasonCode.PayloadFormatInvalid, "payload is not valid UTF-8");
    return ack(c, p, ReasonCode.PayloadFormatInvalid, "payload is not valid UTF-8");
  }

  // `$rpc/...` is a call, `$rpc-reply/...` a callee's answer: not routed to subscribers (docs/rpc.md).
  if (isRpcTopic(topic)) {
    if (p.qos === 2 && session.incomingQos2.has(p.packetId!)) return ack(c, p, ReasonCode.Success);
    const [code, reason] = handleRpcPublish(c, p, topic);
    if (p.qos === 2 && code < 0x80) session.incomingQos2.add(p.packetId!);
    return ack(c, p, code, reason);
  }

  if (!c.router.auth.authorize(c.principal!, "publish", topic)) {
    c.log.debug("mqtt: publish not authorized", { clientId: session.clientId, topic });
    // 3.1.1 has no negative ack: the message is acknowledged and dropped (as Mosquitto does).
    return ack(c, p, ReasonCode.NotAuthorized, `not authorized to publish to ${topic}`);
  }

  // QoS 2: a PUBLISH whose packet id awaits PUBREL is a resend; it is not routed again ([MQTT-4.3.3-10]).
  if (p.qos === 2 && session.incomingQos2.has(p.packetId!)) {
    return ack(c, p, ReasonCode.Success);
  }

  const now = Date.now();
  const message = createMessage(
    topic,
    p.payload,
    p.qos,
    p.retain,
    propertiesFromMqtt(props, now),
    session.clientId,
    now,
  );
  message.publisherUser = c.principal!.username;
  // The bytes as received are the packet to forward when nothing in them changes on the way: no
  // topic alias (connection-scoped), no expiry (counts down), no subscription identifier.
  const raw = p[RAW];
  if (
    raw !== undefined &&
    (props === undefined ||
      (props.topicAlias === undefined &&
        props.messageExpiryInterval === undefined &&
        props.subscriptionIdentifiers === undefined))
  ) {
    seedEncoded(message, raw, c.version);
  }
  const matched = c.router.publish(message);

  if (p.qos === 2) {
    session.incomingQos2.add(p.packetId!);
    if (session.persistent) c.router.store.addIncomingQos2(session.clientId, p.packetId!);
  }
  ack(c, p, matched === 0 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success);
}

function ack(c: MqttConnection, p: PublishPacket, reasonCode: number, reason?: string): void {
  if (p.qos === 0) return;
  const cmd = p.qos === 1 ? "puback" : "pubrec";
  if (c.version !== 5 || reasonCode === ReasonCode.Success) {
    // Packet id only (v5 leaves out a Success reason code without properties, §3.4.2.1).
    c.ackIdAfterCommit(p.qos === 1 ? ACK_PUBACK : ACK_PUBREC, p.packetId!);
    return;
  }
  c.ackAfterCommit({
    cmd,
    packetId: p.packetId!,
    reasonCode,
    properties: reasonCode >= 0x80 ? c.reasonString(reason) : undefined,
  });
}
