/** PUBACK, PUBREC, PUBCOMP from a client: progress of messages we sent (§4.3). */
import { type AckPacket, ReasonCode } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import { completeInflight } from "../outgoing.js";

export function handlePuback(c: MqttConnection, p: AckPacket): void {
  const d = c.session!.inflight.get(p.packetId);
  if (d && d.qos === 1) completeInflight(c, p.packetId);
}

export function handlePubrec(c: MqttConnection, p: AckPacket): void {
  const session = c.session!;
  const d = session.inflight.get(p.packetId);
  if (d?.qos !== 2) {
    if (c.version === 5)
      c.send({ cmd: "pubrel", packetId: p.packetId, reasonCode: ReasonCode.PacketIdentifierNotFound });
    return;
  }
  // A PUBREC with an error reason ends the exchange: no PUBREL is sent ([MQTT-4.3.3-?], §4.3.3).
  if ((p.reasonCode ?? 0) >= 0x80) {
    completeInflight(c, p.packetId);
    return;
  }
  if (d.state === "publish") {
    d.state = "pubrel";
    // Two columns, not the row: the message is stored already (PUBLISH sent as a persistent session).
    if (session.persistent) c.router.store.updateDelivery(session.clientId, d.seq, d.packetId, "pubrel");
  }
  c.send({ cmd: "pubrel", packetId: p.packetId });
}

export function handlePubcomp(c: MqttConnection, p: AckPacket): void {
  const d = c.session!.inflight.get(p.packetId);
  if (d && d.state === "pubrel") completeInflight(c, p.packetId);
}
