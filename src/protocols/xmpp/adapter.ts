/** The XMPP protocol adapter: byte streams from TCP, TLS and WebSocket (/xmpp-websocket) become XMPP streams. */
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { TlsCredentials } from "../../transports/tls.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { XmppHub } from "./hub.js";
import { DEFAULT_XMPP_OPTIONS, type XmppOptions } from "./options.js";

export class XmppAdapter {
  readonly hub: XmppHub;

  constructor(router: Router, options: Partial<XmppOptions>, log: Logger, tls?: TlsCredentials) {
    this.hub = new XmppHub(router, { ...DEFAULT_XMPP_OPTIONS, ...options }, log, tls);
  }

  /** Entry point for every transport. */
  accept(stream: ByteStream, info: TransportInfo): void {
    this.hub.accept(stream, info);
  }

  get connectionCount(): number {
    return this.hub.connections.size;
  }

  /** Closes every stream (<system-shutdown/>) and waits for them, at most `ms`. */
  drained(ms: number): Promise<void> {
    return this.hub.drained(ms);
  }
}
