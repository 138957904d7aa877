/** UNSUBSCRIBE (§3.10): remove each filter, answer UNSUBACK (v5: a reason code per filter). */
import { ReasonCode, type UnsubscribePacket } from "../codec/packets.js";
import type { MqttConnection } from "../connection.js";
import { rpcUnsubscribe } from "../rpc.js";

export function handleUnsubscribe(c: MqttConnection, p: UnsubscribePacket): void {
  const session = c.session!;
  const codes: number[] = [];
  for (const filter of p.topics) {
    const removed = rpcUnsubscribe(c, filter) ?? c.router.unsubscribe(session, filter);
    codes.push(removed ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  c.send({ cmd: "unsuback", packetId: p.packetId, reasonCodes: c.version === 5 ? codes : undefined });
}
