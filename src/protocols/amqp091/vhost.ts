/**
 * One virtual host: its exchanges and its queues. The default vhost "/" owns the shared topic space
 * (its amq.topic, as RabbitMQ's MQTT plugin uses one vhost); the others are namespaces of their own.
 */
import type { Router } from "../../core/router.js";
import { ExchangeRegistry } from "./exchanges/registry.js";
import { QueueRegistry } from "./queue-registry.js";

export const DEFAULT_VHOST = "/";

export class Vhost {
  readonly exchanges: ExchangeRegistry;
  readonly queues: QueueRegistry;

  constructor(
    router: Router,
    readonly name: string,
  ) {
    this.exchanges = new ExchangeRegistry(router, name === DEFAULT_VHOST, name);
    this.queues = new QueueRegistry(router, this.exchanges, name);
  }
}
