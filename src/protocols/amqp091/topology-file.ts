/**
 * Durable exchanges, durable bindings and the AMQP arguments of durable queues, per virtual host,
 * kept in one JSON file beside the store (the queues and their messages are in the store itself).
 * Written whole, atomically (temp file + rename), once per tick of changes; declares are rare.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { FieldTable } from "./codec/reader.js";
import type { ExchangeDefinition } from "./exchanges/exchange.js";
import type { Vhost } from "./vhost.js";

interface VhostJson {
  exchanges: ExchangeDefinition[];
  /** Queue destinations by their core name. */
  bindings: Array<{
    source: string;
    destKind: "queue" | "exchange";
    destination: string;
    key: string;
    args: FieldTable;
  }>;
}

interface TopologyJson {
  version: 2;
  vhosts: Record<string, VhostJson>;
  /** Core queue name -> its declare arguments. */
  queues: Array<{ name: string; arguments: FieldTable }>;
}

export class TopologyFile {
  private scheduled = false;

  constructor(
    private readonly path: string,
    private readonly router: Router,
    private readonly vhosts: Map<string, Vhost>,
    private readonly log: Logger,
  ) {}

  load(): void {
    if (!existsSync(this.path)) return;
    let data: TopologyJson;
    try {
      data = JSON.parse(readFileSync(this.path, "utf8")) as TopologyJson;
      if (data.version !== 2) throw new Error(`unknown version ${String(data.version)}`);
    } catch (err) {
      this.log.error("amqp091: unreadable topology file, starting without it", {
        path: this.path,
        error: String(err),
      });
      return;
    }
    for (const vh of this.vhosts.values())
      for (const q of data.queues) vh.queues.restore(q.name, q.arguments);
    for (const [name, v] of Object.entries(data.vhosts)) {
      const vh = this.vhosts.get(name);
      if (!vh) continue; // a vhost no longer configured: its topology stays in the file until rewritten
      for (const e of v.exchanges) vh.exchanges.declare(e);
      for (const b of v.bindings) {
        if (b.destKind === "queue" && !this.router.queues.find(b.destination)) continue;
        if (!vh.exchanges.get(b.source)) continue;
        if (b.destKind === "exchange" && !vh.exchanges.get(b.destination)) continue;
        vh.exchanges.bind(b.source, b.destKind, b.destination, b.key, b.args);
      }
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
    const data: TopologyJson = { version: 2, vhosts: {}, queues: [] };
    for (const vh of this.vhosts.values()) {
      data.vhosts[vh.name] = {
        exchanges: vh.exchanges.durableExchanges().map((e) => e.definition()),
        bindings: vh.exchanges.durableBindings(isDurableQueue).map((b) => ({
          source: b.source,
          destKind: b.destKind,
          destination: b.destination,
          key: b.key,
          args: b.args,
        })),
      };
      for (const [name, args] of vh.queues.durableArguments()) data.queues.push({ name, arguments: args });
    }
    const tmp = `${this.path}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(data));
      renameSync(tmp, this.path);
    } catch (err) {
      this.log.error("amqp091: cannot write the topology file", { path: this.path, error: String(err) });
    }
  }
}
