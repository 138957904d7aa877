/** PUBREL from a client (§3.6): releases an incoming QoS 2 message, answers PUBCOMP. */
import { type AckPacket, ReasonCode } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";

export function handlePubrel(c: MqttConnection, p: AckPacket): void {
  const session = c.session!;
  const known = session.incomingQos2.delete(p.packetId);
  if (known && session.persistent) c.router.store.deleteIncomingQos2(session.clientId, p.packetId);
  if (c.version === 5) {
    // An unknown packet id still gets PUBCOMP, with 0x92 ([MQTT-4.3.3-?], §3.7.2.1).
    if (!known) {
      c.ackAfterCommit({
        cmd: "pubcomp",
        packetId: p.packetId,
        reasonCode: ReasonCode.PacketIdentifierNotFound,
      });
      return;
    }
  }
  c.ackIdAfterCommit(0x70, p.packetId); // PUBCOMP: packet id only
}
