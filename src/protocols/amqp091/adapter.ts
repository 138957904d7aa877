/**
 * The AMQP 0-9-1 adapter: shared state of every AMQP connection of one broker (exchanges, AMQP
 * queue state, direct reply-to tokens, the durable topology) and the entry point for the listener's
 * protocol sniffer (../amqp-common/sniff.ts).
 */
import { getHeapStatistics } from "node:v8";
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import type { AmqpProtocol } from "../amqp-common/sniff.js";
import type { Channel } from "./channel.js";
import { PROTOCOL_HEADER } from "./codec/index.js";
import { Amqp091Connection } from "./connection.js";
import { type Amqp091Options, DEFAULT_AMQP091_OPTIONS } from "./options.js";
import { TopologyFile } from "./topology-file.js";
import { Vhost } from "./vhost.js";

export class Amqp091Adapter {
  readonly options: Amqp091Options;
  /** The configured virtual hosts by name. */
  readonly vhosts = new Map<string, Vhost>();
  /** Direct reply-to tokens -> the requester's channel. */
  readonly replyTo = new Map<string, Channel>();
  private readonly open = new Set<Amqp091Connection>();
  private readonly topology: TopologyFile | undefined;
  private alarmTimer: NodeJS.Timeout | undefined;
  /** Heap bytes above which publishers are blocked. */
  private readonly watermark: number;
  private alarm = false;

  constructor(
    readonly router: Router,
    options: Partial<Amqp091Options>,
    readonly log: Logger,
  ) {
    this.options = { ...DEFAULT_AMQP091_OPTIONS, ...options };
    for (const name of this.options.vhosts) this.vhosts.set(name, new Vhost(router, name));
    if (this.options.topologyFile) {
      const topology = new TopologyFile(this.options.topologyFile, router, this.vhosts, log);
      topology.load();
      this.topology = topology;
      for (const vh of this.vhosts.values()) {
        vh.exchanges.onDurableChange = () => topology.scheduleSave();
        vh.queues.onDurableChange = () => topology.scheduleSave();
      }
    }
    // 0 = automatic: 80 % of V8's heap limit, so publishers are held back before the process runs
    // out of memory (RabbitMQ's default watermark is a share of the machine's memory too).
    this.watermark =
      this.options.memoryHighWatermark > 0
        ? this.options.memoryHighWatermark
        : Math.floor(0.8 * getHeapStatistics().heap_size_limit);
    this.alarmTimer = setInterval(() => this.checkMemory(), 250);
    this.alarmTimer.unref();
  }

  /** The protocol entry for the AMQP listener's header sniffer. */
  get protocol(): AmqpProtocol {
    return { header: PROTOCOL_HEADER, accept: (stream, info) => this.accept(stream, info) };
  }

  /** A connection whose protocol header was "AMQP 0 0 9 1": returns where its further bytes go. */
  accept(stream: ByteStream, info: TransportInfo): (chunk: Buffer) => void {
    const conn = new Amqp091Connection(this, stream, info);
    this.open.add(conn);
    return conn.onData;
  }

  /** connection.open-ok was sent: the connection shows in presence, and learns of a running alarm. */
  opened(conn: Amqp091Connection): void {
    conn.session = this.router.attach(conn.id, "amqp091", true, 0, conn).session;
    if (this.alarm) conn.setBlocked(true, "memory high watermark");
  }

  closed(conn: Amqp091Connection): void {
    if (!this.open.delete(conn)) return;
    conn.vhostState?.queues.ownerGone(conn.id);
    if (conn.session) this.router.detach(conn.session, conn);
  }

  get connectionCount(): number {
    return this.open.size;
  }

  /** RabbitMQ's memory alarm: publishers are blocked above the watermark, unblocked below it. */
  checkMemory(heapUsed = getHeapStatistics().used_heap_size): void {
    const alarm = heapUsed > this.watermark;
    if (alarm === this.alarm) return;
    this.alarm = alarm;
    this.log.warn(alarm ? "amqp091: memory alarm, blocking publishers" : "amqp091: memory alarm cleared", {
      heapUsed,
    });
    for (const c of this.open) c.setBlocked(alarm, "memory high watermark");
  }

  /** Waits until every connection has closed (after the router closed them), at most `ms`. */
  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.open) c.destroy();
  }

  close(): void {
    if (this.alarmTimer) clearInterval(this.alarmTimer);
    for (const vh of this.vhosts.values()) vh.queues.close();
    this.topology?.saveNow();
  }
}
