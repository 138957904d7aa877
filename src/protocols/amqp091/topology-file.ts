/**
 * Durable exchanges, durable bindings and the AMQP arguments of durable queues, kept in one JSON
 * file beside the store (the queues and their messages are in the store itself). Written whole,
 * atomically (temp file + rename), shortly after a change; declares are rare, so this is cheap.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { FieldTable } from "./codec/reader.js";
import type { ExchangeDefinition } from "./exchanges/exchange.js";
import type { ExchangeRegistry } from "./exchanges/registry.js";
import type { QueueRegistry } from "./queue-registry.js";

interface TopologyJson {
  version: 1;
  exchanges: ExchangeDefinition[];
  bindings: Array<{
    source: string;
    destKind: "queue" | "exchange";
    destination: string;
    key: string;
    args: FieldTable;
  }>;
  queues: Array<{ name: string; arguments: FieldTable }>;
}

export class TopologyFile {
  private scheduled = false;

  constructor(
    private readonly path: string,
    private readonly router: Router,
    private readonly exchanges: ExchangeRegistry,
    private readonly queues: QueueRegistry,
    private readonly log: Logger,
  ) {}

  load(): void {
    if (!existsSync(this.path)) return;
    let data: TopologyJson;
    try {
      data = JSON.parse(readFileSync(this.path, "utf8")) as TopologyJson;
    } catch (err) {
      this.log.error("amqp091: unreadable topology file, starting without it", {
        path: this.path,
        error: String(err),
      });
      return;
    }
    for (const q of data.queues) this.queues.restore(q.name, q.arguments);
    for (const e of data.exchanges) this.exchanges.declare(e);
    for (const b of data.bindings) {
      if (b.destKind === "queue" && !this.router.queues.find(b.destination)) continue;
      if (!this.exchanges.get(b.source) || (b.destKind === "exchange" && !this.exchanges.get(b.destination)))
        continue;
      this.exchanges.bind(b.source, b.destKind, b.destination, b.key, b.args);
    }
  }

  /** Coalesces the changes of one tick (a declare and its binds) into one write. */
  scheduleSave(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => {
      this.scheduled = false;
      this.saveNow();
    });
  }

  saveNow(): void {
    const isDurableQueue = (name: string): boolean => this.router.queues.find(name)?.persisted ?? false;
    const data: TopologyJson = {
      version: 1,
      exchanges: this.exchanges.durableExchanges().map((e) => e.definition()),
      bindings: this.exchanges.durableBindings(isDurableQueue).map((b) => ({
        source: b.source,
        destKind: b.destKind,
        destination: b.destination,
        key: b.key,
        args: b.args,
      })),
      queues: this.queues.durableArguments().map(([name, args]) => ({ name, arguments: args })),
    };
    const tmp = `${this.path}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(data));
      renameSync(tmp, this.path);
    } catch (err) {
      this.log.error("amqp091: cannot write the topology file", { path: this.path, error: String(err) });
    }
  }
}
