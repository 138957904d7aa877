/**
 * $SYS topics: broker statistics published as retained messages every `intervalMs`, under the
 * names Mosquitto uses so existing dashboards work.
 */
import { createMessage } from "./message.js";
import type { Router } from "./router.js";

export class SysPublisher {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly router: Router,
    private readonly version: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.publish("$SYS/broker/version", `switchboard ${this.version}`);
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  tick(): void {
    const r = this.router;
    const s = r.stats;
    this.publish("$SYS/broker/uptime", `${Math.floor((Date.now() - s.startedAt) / 1000)} seconds`);
    this.publish("$SYS/broker/clients/connected", r.presence.connectedCount);
    this.publish("$SYS/broker/clients/total", r.sessions.size);
    this.publish("$SYS/broker/messages/received", s.messagesReceived);
    this.publish("$SYS/broker/messages/sent", s.messagesSent);
    this.publish("$SYS/broker/messages/dropped", s.messagesDropped);
    this.publish("$SYS/broker/bytes/received", s.bytesReceived);
    this.publish("$SYS/broker/bytes/sent", s.bytesSent);
    this.publish("$SYS/broker/subscriptions/count", r.subscriptionCount);
    this.publish("$SYS/broker/retained messages/count", r.retainedCount);
  }

  private publish(topic: string, value: string | number): void {
    this.router.publish(createMessage(topic, Buffer.from(String(value)), 0, true));
  }
}
