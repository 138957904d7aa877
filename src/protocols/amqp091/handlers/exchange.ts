/** exchange.declare / delete / bind / unbind (amqp0-9-1.xml class exchange, RabbitMQ's rules). */
import { dottedToFilter } from "../../../core/dotted-names.js";
import type { Channel } from "../channel.js";
import { AmqpError, type MethodArgs, ReplyCode } from "../codec/index.js";
import { EXCHANGE_TYPES, type ExchangeType } from "../exchanges/exchange.js";

export function handleExchangeDeclare(ch: Channel, a: MethodArgs): void {
  const name = a.exchange ?? "";
  const registry = ch.conn.vh.exchanges;
  if (name === "")
    throw new AmqpError(ReplyCode.AccessRefused, "operation not permitted on the default exchange");
  if (a.passive) {
    registry.require(name);
  } else {
    const type = a.type ?? "";
    if (!EXCHANGE_TYPES.has(type)) {
      // RabbitMQ treats an unknown exchange type as a hard error.
      throw new AmqpError(ReplyCode.CommandInvalid, `unknown exchange type '${type}'`, 0, 0, true);
    }
    registry.declare({
      name,
      type: type as ExchangeType,
      durable: a.durable ?? false,
      autoDelete: a.autoDelete ?? false,
      internal: a.internal ?? false,
      args: a.arguments ?? {},
    });
  }
  if (!a.noWait) ch.send("exchange.declare-ok");
}

export function handleExchangeDelete(ch: Channel, a: MethodArgs): void {
  const name = a.exchange ?? "";
  if (name === "")
    throw new AmqpError(ReplyCode.AccessRefused, "operation not permitted on the default exchange");
  ch.conn.vh.exchanges.delete(name, a.ifUnused ?? false);
  if (!a.noWait) ch.send("exchange.delete-ok");
}

export function handleExchangeBind(ch: Channel, a: MethodArgs): void {
  const source = a.source ?? "";
  const key = a.routingKey ?? "";
  checkTopicRead(ch, source, key);
  ch.conn.vh.exchanges.bind(source, "exchange", a.destination ?? "", key, a.arguments ?? {});
  if (!a.noWait) ch.send("exchange.bind-ok");
}

export function handleExchangeUnbind(ch: Channel, a: MethodArgs): void {
  const reg = ch.conn.vh.exchanges;
  reg.require(a.destination ?? "");
  reg.unbind(a.source ?? "", "exchange", a.destination ?? "", a.routingKey ?? "", a.arguments ?? {});
  if (!a.noWait) ch.send("exchange.unbind-ok");
}

/**
 * A binding to amq.topic is a subscription in the shared topic space: the one ACL decides, as it
 * does for every protocol (403 ACCESS_REFUSED when the filter is not wholly allowed).
 */
export function checkTopicRead(ch: Channel, source: string, key: string): void {
  if (!ch.conn.vh.exchanges.isShared(source)) return;
  const filter = dottedToFilter(key);
  const principal = ch.conn.principal;
  if (filter === undefined || !principal) return;
  if (!ch.conn.router.auth.authorize(principal, "subscribe", filter)) {
    throw new AmqpError(
      ReplyCode.AccessRefused,
      `access to topic '${filter}' refused for user '${principal.username ?? ""}'`,
    );
  }
}
