/**
 * The AMQP 1.0 adapter: the entry for the shared AMQP listener (../amqp-common/sniff.ts) for both
 * the SASL header `AMQP 3 1 0 0` and the plain header `AMQP 0 1 0 0`, the open connections, the
 * topic feeds of receiving links (durable ones restored at start) and the memory alarm that
 * withholds link credit from senders.
 */
import { randomBytes } from "node:crypto";
import { getHeapStatistics } from "node:v8";
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import type { AmqpProtocol } from "../amqp-common/sniff.js";
import { AMQP_HEADER, SASL_HEADER } from "./codec/frames.js";
import { Amqp10Connection } from "./connection.js";
import { DURABLE_FEED_PREFIX, feedQueueOptions, TopicFeed } from "./feed.js";
import { type Amqp10Options, DEFAULT_AMQP10_OPTIONS } from "./options.js";

export class Amqp10Adapter {
  readonly options: Amqp10Options;
  readonly containerId = `switchboard-${randomBytes(4).toString("hex")}`;
  private readonly open = new Set<Amqp10Connection>();
  private readonly feeds = new Map<string, TopicFeed>();
  private readonly watermark: number;
  private readonly alarmTimer: NodeJS.Timeout;
  /** Heap above the watermark: no link credit is granted to senders until it falls below. */
  alarm = false;

  constructor(
    readonly router: Router,
    options: Partial<Amqp10Options>,
    readonly log: Logger,
    memoryHighWatermark = 0,
  ) {
    this.options = { ...DEFAULT_AMQP10_OPTIONS, ...options };
    this.watermark =
      memoryHighWatermark > 0 ? memoryHighWatermark : Math.floor(0.8 * getHeapStatistics().heap_size_limit);
    this.alarmTimer = setInterval(() => this.checkMemory(), 250);
    this.alarmTimer.unref();
    this.restore();
  }

  /** Entries for the listener's header sniffer: with and without the SASL layer. */
  get protocols(): AmqpProtocol[] {
    return [
      { header: SASL_HEADER, accept: (stream, info) => this.accept(stream, info, true) },
      { header: AMQP_HEADER, accept: (stream, info) => this.accept(stream, info, false) },
    ];
  }

  accept(stream: ByteStream, info: TransportInfo, sasl: boolean): (chunk: Buffer) => void {
    const conn = new Amqp10Connection(this, stream, info, sasl);
    this.open.add(conn);
    return conn.onData;
  }

  opened(_conn: Amqp10Connection): void {}

  closed(conn: Amqp10Connection): void {
    if (!this.open.delete(conn)) return;
    this.router.queues.ownerGone?.(conn.id);
    if (conn.session) this.router.detach(conn.session, conn);
  }

  get connectionCount(): number {
    return this.open.size;
  }

  /** The feed of the queue behind a topic link (a durable one is shared by re-attaches). */
  feed(queueName: string, durable: boolean): TopicFeed {
    let f = this.feeds.get(queueName);
    if (!f?.session) {
      f = new TopicFeed(this.router, queueName, durable);
      f.attach();
      this.feeds.set(queueName, f);
    }
    return f;
  }

  feedRemoved(feed: TopicFeed): void {
    if (this.feeds.get(feed.queueName) === feed) this.feeds.delete(feed.queueName);
  }

  /** Durable subscriptions restored from the store start collecting at once. */
  private restore(): void {
    for (const session of [...this.router.sessions.values()]) {
      if (!session.clientId.startsWith(DURABLE_FEED_PREFIX) || session.connection) continue;
      const name = session.clientId.slice(DURABLE_FEED_PREFIX.length);
      if (!this.router.queues.find(name))
        this.router.queues.declare(name, feedQueueOptions(this.router, true, undefined));
      this.feed(name, true);
    }
  }

  checkMemory(heapUsed = getHeapStatistics().used_heap_size): void {
    const alarm = heapUsed > this.watermark;
    if (alarm === this.alarm) return;
    this.alarm = alarm;
    this.log.warn(alarm ? "amqp10: memory alarm, withholding credit" : "amqp10: memory alarm cleared", {
      heapUsed,
    });
    if (!alarm) for (const c of this.open) c.replenish();
  }

  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.open) c.destroy();
  }

  close(): void {
    clearInterval(this.alarmTimer);
  }
}
