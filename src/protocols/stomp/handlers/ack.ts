/**
 * ACK and NACK (STOMP 1.2 §"ACK", §"NACK"; 1.1 and 1.0 name the message by `message-id` and
 * `subscription`). Ack ids are `<subscription number>-<delivery tag>`. With ack:client both are
 * cumulative over the subscription; with client-individual they settle one message. NACK requeues
 * (the message comes back `redelivered:true`) unless it says `requeue:false` (RabbitMQ): then the
 * message is dead-lettered or dropped.
 */
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { required, StompFrameError } from "../errors.js";

export function handleAck(c: StompConnection, f: StompFrame, kind: "ack" | "nack"): void {
  const command = f.command;
  const ackId =
    c.version === "1.2"
      ? required(header(f, "id"), "id", command)
      : required(header(f, "message-id"), "message-id", command);
  if (c.version === "1.1") required(header(f, "subscription"), "subscription", command);
  const dash = ackId.indexOf("-");
  const number = dash > 0 ? Number(ackId.slice(0, dash)) : Number.NaN;
  const tag = dash > 0 ? Number(ackId.slice(dash + 1)) : Number.NaN;
  const sub = Number.isInteger(number) ? c.subscriptionsByNumber.get(number) : undefined;
  if (!sub || !Number.isInteger(tag) || tag <= 0) {
    throw new StompFrameError(
      "unknown message",
      `${command} names '${ackId}', which is not a message delivered to an open subscription of this connection`,
    );
  }
  if (!sub.needsAck || !sub.consumer) {
    throw new StompFrameError(
      "ack not expected",
      `subscription '${sub.id}' uses ack:auto; its messages need no ${command}`,
    );
  }
  const multiple = sub.ackMode === "client";
  // A message already settled (e.g. by an earlier cumulative ACK) is not an error: settling it is a no-op.
  if (kind === "ack") sub.consumer.ack(tag, multiple);
  else sub.consumer.nack(tag, { multiple, requeue: header(f, "requeue") !== "false" });
}
