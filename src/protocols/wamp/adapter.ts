/**
 * The WAMP protocol adapter: accepts WebSocket (`/ws`, subprotocols wamp.2.json, wamp.2.msgpack,
 * wamp.2.cbor) and RawSocket connections, and holds what WAMP sessions share: realms, the broker's
 * subscription registry, the meta API. Routing itself is the core's (Router, Dealer).
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import type { MessageSocket } from "../../transports/websocket/message-socket.js";
import { lengthExponent } from "./codec/rawsocket.js";
import { SERIALIZERS, serializerBySubprotocol } from "./codec/serializers.js";
import { WampConnection } from "./connection.js";
import type { WampContext } from "./context.js";
import { unsubscribe } from "./handlers/pubsub.js";
import { MetaEvents } from "./meta/events.js";
import { installRegistrationMeta, installSessionMeta, installSubscriptionMeta } from "./meta/procedures.js";
import { DEFAULT_WAMP_OPTIONS, type WampOptions } from "./options.js";
import { SubscriptionRegistry } from "./subscriptions.js";
import { acceptRawSocket, WebSocketTransport } from "./transport.js";

/** The WebSocket subprotocols offered at /ws (WAMP §14.5.2). */
export const WAMP_SUBPROTOCOLS = SERIALIZERS.map((s) => s.subprotocol);

export class WampAdapter implements WampContext {
  readonly options: WampOptions;
  readonly subscriptions: SubscriptionRegistry;
  readonly meta: MetaEvents;
  private readonly realms: Set<string>;
  private readonly open = new Set<WampConnection>();
  /** The RawSocket maximum message length the router announces: a power of two (WAMP §14.5.3.1). */
  readonly rawSocketMaxLength: number;

  constructor(
    readonly router: Router,
    options: Partial<WampOptions>,
    readonly log: Logger,
  ) {
    this.options = { ...DEFAULT_WAMP_OPTIONS, ...options };
    this.realms = new Set(this.options.realms);
    this.subscriptions = new SubscriptionRegistry(this.options.eventHistory);
    this.meta = new MetaEvents(router);
    installSessionMeta(router);
    installRegistrationMeta(router.dealer);
    installSubscriptionMeta(router.dealer, this.subscriptions);
    this.rawSocketMaxLength = 2 ** (9 + lengthExponent(this.options.maxMessageSize));
  }

  /** WebSocket at /ws: the subprotocol chose the serializer. */
  readonly acceptWebSocket = (ws: MessageSocket, info: TransportInfo, protocol: string): void => {
    const serializer = serializerBySubprotocol(protocol);
    if (serializer === undefined) {
      ws.close(1002, "unsupported subprotocol");
      return;
    }
    const transport = new WebSocketTransport(ws, info.kind, serializer);
    this.open.add(
      new WampConnection(this, transport, serializer, { address: info.remoteAddress, port: info.remotePort }),
    );
  };

  /** RawSocket over TCP: the handshake chooses the serializer and the maximum lengths. */
  readonly acceptRawSocket = (stream: ByteStream, info: TransportInfo): void => {
    acceptRawSocket(
      stream,
      info.kind,
      this.rawSocketMaxLength,
      this.options.helloTimeoutMs,
      (transport, serializer) => {
        this.open.add(
          new WampConnection(this, transport, serializer, {
            address: info.remoteAddress,
            port: info.remotePort,
          }),
        );
      },
    );
  };

  openRealm(realm: string): boolean {
    if (this.realms.has(realm)) return true;
    if (!this.options.autoCreateRealms) return false;
    this.realms.add(realm);
    this.log.info("wamp realm created", { realm });
    return true;
  }

  anonymousAllowed(realm: string): boolean {
    const a = this.options.anonymousRealms;
    return a.includes("*") || a.includes(realm);
  }

  leave(conn: WampConnection): void {
    for (const sub of [...conn.subscriptions.values()]) unsubscribe(conn, sub);
    if (conn.endpoint) this.router.dealer.leave(conn.endpoint);
  }

  forget(conn: WampConnection): void {
    this.open.delete(conn);
  }

  newClientId(): string {
    return `wamp:${randomBytes(12).toString("base64url")}`;
  }

  get connectionCount(): number {
    return this.open.size;
  }

  /** Waits until every connection has closed (after the router said GOODBYE), at most `ms`. */
  async drained(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.open) c.destroy();
  }
}
