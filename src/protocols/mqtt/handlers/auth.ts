/**
 * MQTT 5 enhanced authentication (§4.12): the AUTH exchange before CONNACK and re-authentication
 * afterwards, driven by a pluggable EnhancedAuthMethod (see ../enhanced-auth.ts).
 */
import type { Principal } from "../../../core/auth.js";
import { type AuthPacket, type ConnectPacket, ReasonCode } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import type { AuthStep } from "../enhanced-auth.js";
import { completeConnect, refuse } from "./connect.js";

/** The CONNECT whose AUTH exchange is in progress, with its client id. */
const pendingConnects = new WeakMap<
  MqttConnection,
  { packet: ConnectPacket; clientId: string; assigned?: string }
>();

/** Returns the principal when the method succeeds at once; undefined when refused or continuing. */
export async function startEnhancedAuth(
  c: MqttConnection,
  p: ConnectPacket,
  clientId: string,
): Promise<Principal | undefined> {
  const method = p.properties!.authenticationMethod!;
  const impl = c.options.authMethods?.get(method);
  if (!impl) {
    refuse(c, ReasonCode.BadAuthenticationMethod, `authentication method ${method} not supported`);
    return undefined;
  }
  c.authMethod = method;
  const ctx = { clientId, username: p.username, remoteAddress: c.transport.remoteAddress };
  const { step, state } = await impl.start(ctx, p.properties?.authenticationData);
  if (c.state === "closed") return undefined;
  c.authExchange = { method, state };
  if (step.kind === "success") {
    c.authFinalData = step.data;
    return step.principal;
  }
  if (step.kind === "failure") {
    refuse(c, ReasonCode.NotAuthorized, "authentication failed");
    return undefined;
  }
  pendingConnects.set(c, { packet: p, clientId, assigned: p.clientId === "" ? clientId : undefined });
  sendAuth(c, ReasonCode.ContinueAuthentication, step);
  // Let the client's AUTH packets through while the connection is not yet connected.
  c.connectDone();
  return undefined;
}

export async function handleAuth(c: MqttConnection, p: AuthPacket): Promise<void> {
  const method = p.properties?.authenticationMethod;
  const reason = p.reasonCode ?? 0;
  // AUTH is only valid when the CONNECT named a method, and must name the same one ([MQTT-4.12.0-5..7]).
  if (c.version !== 5 || !c.authMethod || method !== c.authMethod) {
    return c.protocolError(ReasonCode.ProtocolError, "AUTH without a matching authentication method");
  }
  const impl = c.options.authMethods!.get(c.authMethod)!;
  let step: AuthStep;
  if (reason === ReasonCode.ReAuthenticate && c.state === "connected") {
    const ctx = {
      clientId: c.session!.clientId,
      username: c.principal?.username,
      remoteAddress: c.transport.remoteAddress,
    };
    const started = await impl.start(ctx, p.properties?.authenticationData);
    c.authExchange = { method: c.authMethod, state: started.state };
    step = started.step;
  } else if (reason === ReasonCode.ContinueAuthentication && c.authExchange) {
    step = await impl.next(c.authExchange.state, p.properties?.authenticationData);
  } else {
    return c.protocolError(ReasonCode.ProtocolError, "unexpected AUTH reason code");
  }
  if (c.state === "closed") return;
  const pending = pendingConnects.get(c);
  if (step.kind === "continue") return sendAuth(c, ReasonCode.ContinueAuthentication, step);
  if (step.kind === "failure") {
    if (pending) return refuse(c, ReasonCode.NotAuthorized, "authentication failed");
    return c.protocolError(ReasonCode.NotAuthorized, "re-authentication failed");
  }
  c.authExchange = undefined;
  if (pending) {
    pendingConnects.delete(c);
    if (step.data) c.authFinalData = step.data;
    completeConnect(c, pending.packet, pending.clientId, step.principal, pending.assigned);
    return;
  }
  c.principal = { ...step.principal, clientId: c.session!.clientId };
  sendAuth(c, ReasonCode.Success, step);
}

function sendAuth(c: MqttConnection, reasonCode: number, step: AuthStep): void {
  const data = step.kind === "failure" ? undefined : step.data;
  c.send({
    cmd: "auth",
    reasonCode,
    properties: { authenticationMethod: c.authMethod!, ...(data ? { authenticationData: data } : {}) },
  });
}
