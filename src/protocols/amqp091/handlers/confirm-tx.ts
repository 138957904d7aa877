/**
 * confirm.select (RabbitMQ's publisher confirms) and tx.select / commit / rollback. The two modes
 * exclude each other (406 PRECONDITION_FAILED, as in RabbitMQ).
 */
import type { Channel } from "../channel.js";
import { AmqpError, type MethodArgs, ReplyCode } from "../codec/index.js";

export function handleConfirmSelect(ch: Channel, a: MethodArgs): void {
  if (ch.txMode) throw new AmqpError(ReplyCode.PreconditionFailed, "cannot switch from tx to confirm mode");
  ch.confirmMode = true;
  if (!a.noWait) ch.send("confirm.select-ok");
}

export function handleTx(ch: Channel, name: string): void {
  if (name === "tx.select") {
    if (ch.confirmMode)
      throw new AmqpError(ReplyCode.PreconditionFailed, "cannot switch from confirm to tx mode");
    ch.txMode = true;
    ch.send("tx.select-ok");
    return;
  }
  if (!ch.txMode) throw new AmqpError(ReplyCode.PreconditionFailed, "channel is not transactional");
  const actions = ch.txActions;
  ch.txActions = [];
  if (name === "tx.rollback") {
    // Publishes and acks of the transaction are dropped; delivered messages stay unacked (RabbitMQ).
    ch.send("tx.rollback-ok");
    return;
  }
  for (const act of actions) act();
  // commit-ok only once every persistent message of the transaction is in the store.
  ch.runExclusive(
    ch.conn.router.store.commit().then(() => {
      if (ch.state === "open") ch.send("tx.commit-ok");
    }),
  );
}
