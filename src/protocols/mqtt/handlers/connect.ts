/** CONNECT (§3.1): validate, authenticate, attach the session, answer CONNACK. */
import { randomBytes } from "node:crypto";
import { type Principal, subscribeScope } from "../../../core/auth.js";
import { createMessage } from "../../../core/message.js";
import { NEVER_EXPIRES } from "../../../core/router.js";
import { validateTopicName } from "../../../core/topic.js";
import { isValidUtf8 } from "../codec/index.js";
import {
  type ConnackPacket,
  type ConnectPacket,
  ConnectReturnCode,
  type Properties,
  ReasonCode,
} from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import { propertiesFromMqtt } from "../message-mapping.js";
import { pump, resendInflight } from "../outgoing.js";
import { startEnhancedAuth } from "./auth.js";

/** v5 reason code -> v3.1.1 CONNACK return code. */
function v4ReturnCode(reasonCode: number): number {
  switch (reasonCode) {
    case ReasonCode.UnsupportedProtocolVersion:
      return ConnectReturnCode.UnacceptableProtocolVersion;
    case ReasonCode.ClientIdentifierNotValid:
      return ConnectReturnCode.IdentifierRejected;
    case ReasonCode.BadUserNameOrPassword:
      return ConnectReturnCode.BadUserNameOrPassword;
    case ReasonCode.NotAuthorized:
      return ConnectReturnCode.NotAuthorized;
    default:
      return ConnectReturnCode.ServerUnavailable;
  }
}

/** Refuses the connection with CONNACK and closes it ([MQTT-3.2.2-5]/[MQTT-3.2.2-7]). */
export function refuse(c: MqttConnection, reasonCode: number, reason: string): void {
  c.log.debug("mqtt: connection refused", { reasonCode, reason, remote: c.transport.remoteAddress });
  const rc = c.version === 5 ? reasonCode : v4ReturnCode(reasonCode);
  const props = c.version === 5 ? c.reasonString(reason, true) : undefined;
  c.send({ cmd: "connack", sessionPresent: false, reasonCode: rc, properties: props });
  c.end();
  c.connectDone();
}

export async function handleConnect(c: MqttConnection, p: ConnectPacket): Promise<void> {
  const o = c.options;
  c.version = p.protocolVersion;
  c.decoder.version = p.protocolVersion;
  c.info.protocolVersion = p.protocolVersion === 5 ? "5.0" : p.protocolVersion === 4 ? "3.1.1" : "3.1";
  const props = p.properties ?? {};
  if (c.version === 5) {
    // Receive Maximum and Maximum Packet Size of 0 are protocol errors (§3.1.2.11.3, §3.1.2.11.4).
    if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) {
      return refuse(c, ReasonCode.ProtocolError, "Receive Maximum and Maximum Packet Size must not be 0");
    }
    c.clientReceiveMaximum = props.receiveMaximum ?? 65535;
    c.clientMaxPacketSize = props.maximumPacketSize ?? 0;
    c.clientTopicAliasMaximum = props.topicAliasMaximum ?? 0;
    c.requestProblemInformation = props.requestProblemInformation !== 0;
  }

  // Client identifier rules (§3.1.3.1).
  let clientId = p.clientId;
  let assignedClientId: string | undefined;
  if (clientId.length === 0) {
    // 3.1.1 allows an empty id only with a clean session [MQTT-3.1.3-7, 3.1.3-8]; 3.1 not at all.
    if (c.version === 3 || (c.version === 4 && !p.clean)) {
      return refuse(c, ReasonCode.ClientIdentifierNotValid, "empty client identifier");
    }
    clientId = `auto-${randomBytes(12).toString("hex")}`;
    if (c.version === 5) assignedClientId = clientId;
  }
  if (clientId.length > o.maxClientIdLength) {
    return refuse(
      c,
      ReasonCode.ClientIdentifierNotValid,
      `client identifier longer than ${o.maxClientIdLength}`,
    );
  }

  // Will validation ([MQTT-3.1.2-9..18], payload format [MQTT-3.1.3-?]).
  if (p.will) {
    const bad = validateTopicName(p.will.topic, o.maxTopicLevels);
    if (bad) return refuse(c, ReasonCode.TopicNameInvalid, `will topic: ${bad}`);
    if (p.will.qos > o.maxQoS) return refuse(c, ReasonCode.QoSNotSupported, "will QoS not supported");
    if (p.will.retain && !o.retainAvailable)
      return refuse(c, ReasonCode.RetainNotSupported, "retain not supported");
    if (p.will.properties?.payloadFormatIndicator === 1 && !isValidUtf8(p.will.payload)) {
      return refuse(c, ReasonCode.PayloadFormatInvalid, "will payload is not UTF-8");
    }
  }

  // Authentication: enhanced (v5 AUTH exchange) or user name / password through the core Auth.
  let principal: Principal | undefined;
  if (c.version === 5 && props.authenticationMethod !== undefined) {
    principal = await startEnhancedAuth(c, p, clientId);
    if (!principal) return; // refused, or the exchange goes on in AUTH packets
  } else {
    const result = await c.router.auth.authenticate({
      protocol: "mqtt",
      clientId,
      username: p.username,
      password: p.password,
      remoteAddress: c.transport.remoteAddress,
      secure: c.transport.secure,
    });
    if (c.state === "closed") return;
    if (!result.ok) {
      const code =
        result.reason === "bad-credentials" ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized;
      return refuse(
        c,
        code,
        result.reason === "bad-credentials" ? "bad user name or password" : "not authorized",
      );
    }
    principal = result.principal;
  }
  completeConnect(c, p, clientId, principal, assignedClientId);
}

/** After authentication succeeded: the session, CONNACK, resend, keep alive. */
export function completeConnect(
  c: MqttConnection,
  p: ConnectPacket,
  clientId: string,
  principal: Principal,
  assignedClientId: string | undefined,
): void {
  if (c.state === "closed") return;
  const o = c.options;
  const props = p.properties ?? {};
  c.principal = { ...principal, clientId };
  c.info.username = principal.username;

  if (p.will && !c.router.auth.authorize(c.principal, "publish", p.will.topic)) {
    return refuse(c, ReasonCode.NotAuthorized, "not authorized to publish the will topic");
  }

  // Session lifetime: v3 clean session 0 = never expires; v5 Session Expiry Interval (§3.1.2.11.2).
  let expiry: number;
  let expiryCapped = false;
  if (c.version === 5) {
    expiry = props.sessionExpiryInterval ?? 0;
    if (expiry > o.maxSessionExpiry) {
      expiry = o.maxSessionExpiry;
      expiryCapped = true;
    }
  } else {
    expiry = p.clean ? 0 : NEVER_EXPIRES;
  }

  const { session, sessionPresent } = c.router.attach(clientId, "mqtt", p.clean, expiry, c);
  c.session = session;
  c.state = "connected";

  if (p.will) {
    const wp = p.will.properties;
    const message = createMessage(
      p.will.topic,
      p.will.payload,
      p.will.qos,
      p.will.retain,
      propertiesFromMqtt(wp, Date.now()),
      clientId,
    );
    message.publisherUser = principal.username;
    c.will = { message, delaySeconds: c.version === 5 ? (wp?.willDelayInterval ?? 0) : 0 };
  }

  let keepalive = p.keepalive;
  let serverKeepAlive: number | undefined;
  if (o.keepAliveMax > 0 && (keepalive === 0 || keepalive > o.keepAliveMax)) {
    keepalive = o.keepAliveMax;
    serverKeepAlive = keepalive;
  }

  const connack: ConnackPacket = { cmd: "connack", sessionPresent, reasonCode: 0 };
  if (c.version === 5) {
    const cp: Properties = {
      receiveMaximum: o.maxInflight,
      maximumPacketSize: o.maxPacketSize,
      topicAliasMaximum: o.maxTopicAlias,
    };
    if (o.maxQoS < 2) cp.maximumQoS = o.maxQoS;
    if (!o.retainAvailable) cp.retainAvailable = 0;
    if (assignedClientId) cp.assignedClientIdentifier = assignedClientId;
    if (serverKeepAlive !== undefined) cp.serverKeepAlive = serverKeepAlive;
    if (expiryCapped) cp.sessionExpiryInterval = expiry;
    if (c.authMethod) cp.authenticationMethod = c.authMethod;
    if (c.authFinalData) cp.authenticationData = c.authFinalData;
    connack.properties = cp;
  }
  c.send(connack);
  c.startKeepAlive(keepalive);

  // A new session has nothing queued, in flight or subscribed: only a resumed one has work here.
  if (sessionPresent) {
    recheckSubscriptions(c);
    resendInflight(c);
    pump(c);
    c.router.drainGroups(session);
  }
  c.connectDone();
}

/**
 * A resumed session's subscriptions were authorized for an earlier connection: the ACL may have
 * changed since (SIGHUP) and the principal may differ, so each is checked again. A subscription
 * that is no longer allowed at all is removed.
 */
function recheckSubscriptions(c: MqttConnection): void {
  const session = c.session!;
  for (const filter of [...session.subscriptions.keys()]) {
    const scope = subscribeScope(c.router.auth, c.principal!, filter);
    if (scope === "none") {
      c.log.info("mqtt: subscription no longer authorized, removed", { clientId: session.clientId, filter });
      c.router.unsubscribe(session, filter);
    } else if (scope === "some") {
      c.readChecked = true;
    }
  }
}
