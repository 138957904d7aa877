/** The MQTT protocol adapter: turns byte streams from any transport into MqttConnections. */
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { MqttConnection } from "./connection.js";
import { DEFAULT_MQTT_OPTIONS, type MqttOptions } from "./options.js";

export class MqttAdapter {
  readonly options: MqttOptions;
  private readonly open = new Set<MqttConnection>();

  constructor(
    private readonly router: Router,
    options: Partial<MqttOptions>,
    private readonly log: Logger,
  ) {
    this.options = { ...DEFAULT_MQTT_OPTIONS, ...options };
  }

  /** Entry point for every transport: TCP, TLS, and WebSocket at /mqtt. */
  accept(stream: ByteStream, info: TransportInfo): void {
    const conn = new MqttConnection(
      this.router,
      this.options,
      stream,
      info,
      this.log,
      info.kind,
      this.forget,
    );
    this.open.add(conn);
  }

  /** One function for every connection (no closure per connection). */
  private readonly forget = (conn: MqttConnection): void => {
    this.open.delete(conn);
  };

  get connectionCount(): number {
    return this.open.size;
  }

  /** Waits until every connection has closed (after the router sent DISCONNECTs), at most `ms`. */
  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.open) c.destroy();
  }
}
