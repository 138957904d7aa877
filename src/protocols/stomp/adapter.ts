/** The STOMP protocol adapter: turns byte streams from any transport into StompConnections. */
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { StompConnection, type StompContext } from "./connection.js";
import { DurableSubscriptions } from "./durable.js";
import { DEFAULT_STOMP_OPTIONS, type StompOptions } from "./options.js";

/** WebSocket subprotocols of STOMP (STOMP 1.2 has no registry; these are what clients offer). */
export const STOMP_WS_PROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];

export class StompAdapter {
  readonly options: StompOptions;
  private readonly context: StompContext;
  private readonly open = new Set<StompConnection>();

  constructor(router: Router, options: Partial<StompOptions>, log: Logger) {
    this.options = { ...DEFAULT_STOMP_OPTIONS, ...options };
    const durable = new DurableSubscriptions(router, log);
    // Durable subscriptions restored from the store start collecting messages at once.
    durable.restore();
    this.context = { router, options: this.options, log, durable };
  }

  /** Entry point for TCP and TLS. */
  accept(stream: ByteStream, info: TransportInfo): void {
    this.open.add(new StompConnection(this.context, stream, info, "", this.forget));
  }

  /** Entry point for WebSocket at /stomp. */
  acceptWebSocket(stream: ByteStream, info: TransportInfo, protocol: string): void {
    this.open.add(new StompConnection(this.context, stream, info, protocol, this.forget));
  }

  private readonly forget = (conn: StompConnection): void => {
    this.open.delete(conn);
  };

  get connectionCount(): number {
    return this.open.size;
  }

  /** Waits until every connection has closed (after the router closed them), at most `ms`. */
  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.open) c.destroy();
  }
}
