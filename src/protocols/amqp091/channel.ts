/**
 * One AMQP channel (amqp0-9-1.xml class channel): content assembly (method, header, body frames),
 * method dispatch to handlers/, consumers and their flow, publisher confirms and transactions.
 * Channel errors close only this channel (channel.close with the reply code, §2.2.4); unexpected
 * frames are connection errors (505 UNEXPECTED_FRAME).
 */

import type { Message } from "../../core/message.js";
import { AckScope, type Consumer, type Delivery } from "../../core/queues/index.js";
import type { Session } from "../../core/session.js";
import {
  AmqpError,
  type BasicProperties,
  decodeMethod,
  encodeContent,
  encodeMethod,
  encodeProperties,
  FRAME_BODY,
  FRAME_HEADER,
  type Frame,
  type Method,
  type MethodArgs,
  Reader,
  ReplyCode,
  readProperties,
} from "./codec/index.js";
import { PublisherConfirms } from "./confirms.js";
import type { Amqp091Connection } from "./connection.js";
import { handleAck, handleGet, handleNack, handleRecover, handleReject } from "./handlers/ack.js";
import { handleConfirmSelect, handleTx } from "./handlers/confirm-tx.js";
import { handleCancel, handleConsume, handleQos } from "./handlers/consume.js";
import { REPLY_TO_QUEUE, stopReplyConsumer } from "./handlers/direct-reply-to.js";
import {
  handleExchangeBind,
  handleExchangeDeclare,
  handleExchangeDelete,
  handleExchangeUnbind,
} from "./handlers/exchange.js";
import { handlePublish } from "./handlers/publish.js";
import {
  handleQueueBind,
  handleQueueDeclare,
  handleQueueDelete,
  handleQueuePurge,
  handleQueueUnbind,
} from "./handlers/queue.js";
import { deliveryAddress, deliveryProperties } from "./message-mapping.js";

/** A consumer of this channel: live on a queue, or waiting its turn (single active consumer). */
export interface ChannelConsumer {
  readonly tag: string;
  readonly queue: string;
  readonly noAck: boolean;
  consumer: Consumer | undefined;
}

interface PendingContent {
  method: Method;
  props: BasicProperties | undefined;
  size: number;
  chunks: Buffer[];
  received: number;
}

export class Channel {
  state: "open" | "closing" | "closed" = "open";
  readonly scope = new AckScope();
  readonly consumers = new Map<string, ChannelConsumer>();
  /** basic.qos prefetch-count for consumers created from now on (global = false). */
  consumerPrefetch = 0;
  /** basic.qos prefetch-count shared by the channel (global = true); 0 = none. */
  channelPrefetch = 0;
  /** channel.flow: false stops deliveries to this channel's consumers. */
  active = true;
  /** The queue last declared on this channel: "" in queue fields means it (amqp0-9-1.xml). */
  lastQueue = "";
  confirmMode = false;
  /** Publisher confirms (after confirm.select). */
  readonly confirms = new PublisherConfirms({
    isOpen: () => this.state === "open",
    send: (name, args) => this.send(name, args),
    commit: () => this.conn.router.store.commit(),
  });
  txMode = false;
  txActions: Array<() => void> = [];
  /** Direct reply-to: the token of this channel's amq.rabbitmq.reply-to consumer. */
  replyToken: string | undefined;
  replyConsumerTag: string | undefined;
  /** Direct reply-to: the reply topic's subscription in the topic space (replies from other protocols). */
  replySession: Session | undefined;
  private content: PendingContent | undefined;
  /** Frames that arrived while an asynchronous method (tx.commit) was running. */
  private backlog: Frame[] | undefined;
  private flowing = true;

  constructor(
    readonly conn: Amqp091Connection,
    readonly id: number,
  ) {}

  // ---- input ----------------------------------------------------------------------------------

  onFrame(f: Frame): void {
    if (this.state === "closing") {
      // After our channel.close only close / close-ok are read; everything else is dropped (§2.2.4).
      if (f.type !== 1) return;
      const m = decodeMethod(f.payload);
      if (m.name === "channel.close-ok") this.finishClose();
      else if (m.name === "channel.close") {
        this.send("channel.close-ok");
        this.finishClose();
      }
      return;
    }
    if (this.backlog) {
      this.backlog.push(f);
      return;
    }
    if (f.type === FRAME_HEADER) return this.onHeader(f);
    if (f.type === FRAME_BODY) return this.onBody(f);
    if (this.content) {
      throw new AmqpError(
        ReplyCode.UnexpectedFrame,
        `expected content ${this.content.props ? "body" : "header"} on channel ${this.id}, got a method`,
      );
    }
    const m = decodeMethod(f.payload);
    if (m.name === "basic.publish") {
      if (m.args.immediate) {
        // RabbitMQ 3 dropped immediate delivery and refuses it as a connection error.
        throw new AmqpError(ReplyCode.NotImplemented, "immediate=true", 60, 40, true);
      }
      this.content = { method: m, props: undefined, size: 0, chunks: [], received: 0 };
      return;
    }
    this.run(m);
  }

  private onHeader(f: Frame): void {
    const c = this.content;
    if (!c || c.props)
      throw new AmqpError(ReplyCode.UnexpectedFrame, `unexpected content header on channel ${this.id}`);
    const r = new Reader(f.payload);
    const classId = r.short();
    if (classId !== 60) throw new AmqpError(ReplyCode.UnexpectedFrame, `content header for class ${classId}`);
    r.short(); // weight, unused
    c.size = r.longlong();
    c.props = readProperties(r);
    if (c.size > this.conn.options.maxMessageSize) {
      this.content = undefined;
      // The body frames that follow are dropped with the channel (closing state).
      this.fail(
        new AmqpError(
          ReplyCode.PreconditionFailed,
          `message size ${c.size} is larger than configured max size ${this.conn.options.maxMessageSize}`,
          60,
          40,
        ),
      );
      return;
    }
    if (c.size === 0) this.completeContent(c);
  }

  private onBody(f: Frame): void {
    const c = this.content;
    if (!c?.props)
      throw new AmqpError(ReplyCode.UnexpectedFrame, `unexpected content body on channel ${this.id}`);
    c.received += f.payload.length;
    if (c.received > c.size)
      throw new AmqpError(ReplyCode.FrameError, "content body longer than its header said");
    c.chunks.push(f.payload);
    if (c.received === c.size) this.completeContent(c);
  }

  private completeContent(c: PendingContent): void {
    this.content = undefined;
    const body = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
    this.guard(c.method, () => handlePublish(this, c.method.args, c.props!, body));
  }

  /** Runs one method; its AmqpError closes the channel (or the connection for hard errors). */
  private run(m: Method): void {
    this.guard(m, () => this.dispatch(m));
  }

  private guard(m: Method, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof AmqpError && err.classId === 0) {
        this.fail(
          new AmqpError(
            err.code,
            err.message.replace(/^[A-Z_]+ - /, ""),
            m.classId,
            m.methodId,
            err.connectionLevel,
          ),
        );
        return;
      }
      this.fail(err);
    }
  }

  fail(err: unknown): void {
    this.conn.fail(err, this);
  }

  private dispatch(m: Method): void {
    const a = m.args;
    switch (m.name) {
      case "channel.open":
        throw new AmqpError(
          ReplyCode.ChannelError,
          `channel ${this.id} is already open`,
          m.classId,
          m.methodId,
          true,
        );
      case "channel.close":
        this.send("channel.close-ok");
        this.finishClose();
        return;
      case "channel.close-ok":
        return;
      case "channel.flow":
        this.active = a.active ?? true;
        this.updateFlow();
        this.send("channel.flow-ok", { active: this.active });
        return;
      case "channel.flow-ok":
        return;
      case "exchange.declare":
        return handleExchangeDeclare(this, a);
      case "exchange.delete":
        return handleExchangeDelete(this, a);
      case "exchange.bind":
        return handleExchangeBind(this, a);
      case "exchange.unbind":
        return handleExchangeUnbind(this, a);
      case "queue.declare":
        return handleQueueDeclare(this, a);
      case "queue.bind":
        return handleQueueBind(this, a);
      case "queue.unbind":
        return handleQueueUnbind(this, a);
      case "queue.purge":
        return handleQueuePurge(this, a);
      case "queue.delete":
        return handleQueueDelete(this, a);
      case "basic.qos":
        return handleQos(this, a);
      case "basic.consume":
        return handleConsume(this, a);
      case "basic.cancel":
        return handleCancel(this, a);
      case "basic.get":
        return handleGet(this, a);
      case "basic.ack":
        return handleAck(this, a);
      case "basic.reject":
        return handleReject(this, a);
      case "basic.nack":
        return handleNack(this, a);
      case "basic.recover":
      case "basic.recover-async":
        return handleRecover(this, a, m.name === "basic.recover");
      case "confirm.select":
        return handleConfirmSelect(this, a);
      case "tx.select":
      case "tx.commit":
      case "tx.rollback":
        return handleTx(this, m.name);
      default:
        // A server-to-client method (deliver, get-ok, return...) or one of another class on a channel.
        throw new AmqpError(
          ReplyCode.CommandInvalid,
          `unexpected method '${m.name}' from a client`,
          m.classId,
          m.methodId,
          true,
        );
    }
  }

  /** Holds further frames until `work` settles (tx.commit waits for the store). */
  runExclusive(work: Promise<void>): void {
    this.backlog = [];
    work
      .catch((err) => this.fail(err))
      .finally(() => {
        const frames = this.backlog ?? [];
        this.backlog = undefined;
        for (const f of frames) {
          if (this.state !== "open") break;
          try {
            this.onFrame(f);
          } catch (err) {
            this.fail(err);
          }
        }
      });
  }

  // ---- output ---------------------------------------------------------------------------------

  send(name: string, args?: MethodArgs): void {
    this.conn.write(encodeMethod(this.id, name, args));
  }

  /** basic.deliver (consumer) or basic.get-ok (get) with the message's content. */
  sendDelivery(d: Delivery, consumerTag: string | undefined, messageCount = 0): void {
    const { exchange, routingKey } = deliveryAddress(d.message);
    const bytes = encodeContent(
      this.id,
      consumerTag === undefined
        ? { methodId: 71, deliveryTag: d.tag, redelivered: d.redelivered, exchange, routingKey, messageCount }
        : { methodId: 60, consumerTag, deliveryTag: d.tag, redelivered: d.redelivered, exchange, routingKey },
      propertiesBytes(d.message),
      d.message.payload,
      this.conn.frameMax,
    );
    this.conn.router.stats.messagesSent++;
    this.conn.write(bytes);
  }

  sendReturn(code: number, text: string, exchange: string, routingKey: string, message: Message): void {
    this.conn.write(
      encodeContent(
        this.id,
        { methodId: 50, replyCode: code, replyText: text, exchange, routingKey },
        propertiesBytes(message),
        message.payload,
        this.conn.frameMax,
      ),
    );
  }

  // ---- flow -----------------------------------------------------------------------------------

  /**
   * Consumers flow when the channel is active (channel.flow), the socket is below its bound, and
   * the channel-wide prefetch (basic.qos global) has room.
   */
  updateFlow(): void {
    const flowing =
      this.state === "open" &&
      this.active &&
      !this.conn.backpressured &&
      (this.channelPrefetch === 0 || this.scope.unackedCount < this.channelPrefetch);
    if (flowing === this.flowing) return;
    this.flowing = flowing;
    for (const cc of this.consumers.values()) {
      // Resuming drains queues, and a delivery may fill the channel prefetch again: stop then.
      if (this.flowing !== flowing) return;
      cc.consumer?.setFlow(flowing);
    }
  }

  get isFlowing(): boolean {
    return this.flowing;
  }

  // ---- close ----------------------------------------------------------------------------------

  /** Server-initiated channel.close for a soft error; the channel waits for close-ok. */
  closeWith(err: AmqpError): void {
    if (this.state !== "open") return;
    this.conn.log.debug("amqp091: closing channel", {
      id: this.conn.id,
      channel: this.id,
      code: err.code,
      text: err.message,
    });
    this.send("channel.close", {
      replyCode: err.code,
      replyText: err.replyText,
      classId: err.classId,
      methodId: err.methodId,
    });
    this.shutdown();
    this.state = "closing";
  }

  private finishClose(): void {
    this.shutdown();
    this.conn.channels.delete(this.id);
  }

  /** Cancels consumers and requeues what the channel held unacknowledged (amqp0-9-1.xml channel.close). */
  shutdown(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.content = undefined;
    this.txActions = [];
    const adapter = this.conn.adapter;
    const vh = this.conn.vh;
    stopReplyConsumer(this);
    const queues = new Set<string>();
    for (const cc of this.consumers.values()) {
      if (cc.queue === REPLY_TO_QUEUE) continue; // a pseudo-queue: stopReplyConsumer() above
      queues.add(cc.queue);
      if (!cc.consumer) vh.queues.unwait(cc.queue, this, cc.tag);
    }
    this.consumers.clear();
    this.scope.close();
    for (const name of queues) {
      const q = adapter.router.queues.find(name);
      if (q) {
        vh.queues.promote(q);
        vh.queues.checkGone(q);
      } else vh.queues.gone(name);
    }
  }
}

/** The properties encoded once per message and shared by its deliveries (when they cannot change). */
function propertiesBytes(message: Message): Buffer {
  const cache = message.encoded;
  const hit = cache?.get("amqp091");
  if (hit) return hit;
  const props = deliveryProperties(message, Date.now());
  const bytes = encodeProperties(props);
  // With an expiry the remaining time is written per delivery unless the AMQP publisher set it.
  const exact =
    message.properties.expiresAt === undefined || (message as { amqp?: unknown }).amqp !== undefined;
  if (exact) {
    if (cache) cache.set("amqp091", bytes);
    else message.encoded = new Map([["amqp091", bytes]]);
  }
  return bytes;
}
