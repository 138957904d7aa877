/** DISCONNECT from a client (§3.14): a normal end discards the will; v5 0x04 asks for it. */
import { type DisconnectPacket, ReasonCode } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";

export function handleDisconnect(c: MqttConnection, p: DisconnectPacket): void {
  const session = c.session!;
  const expiry = p.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    // A session that was to end with the connection cannot be made persistent now ([MQTT-3.14.2-2]).
    if (session.expiryInterval === 0 && expiry !== 0) {
      return c.protocolError(ReasonCode.ProtocolError, "session expiry set on DISCONNECT after 0 in CONNECT");
    }
    session.expiryInterval = Math.min(expiry, c.options.maxSessionExpiry);
  }
  // Normal disconnection discards the will ([MQTT-3.14.4-3]); 0x04 keeps it (v5 §3.14.2.1).
  if ((p.reasonCode ?? 0) !== ReasonCode.DisconnectWithWill) c.will = undefined;
  c.end();
}
