import type { XmppConfig } from "../../config/schema.js";

/** Limits and switches of the XMPP adapter: the `xmpp.*` config keys less the listener ports. */
export interface XmppOptions {
  /** The served domain: JIDs are user@domain; PubSub is at pubsub.<domain>. */
  domain: string;
  /** Largest stanza accepted, in characters (RFC 6120 §13.12: at least 10000). */
  maxStanzaSize: number;
  /** Deepest element nesting inside a stanza. */
  maxDepth: number;
  /** A connection that has not bound a resource by then is closed (<connection-timeout/>). */
  authTimeoutMs: number;
  /** XEP-0198: how long a cut session waits to be resumed, in seconds (0 = no resumption). */
  resumeTimeoutSec: number;
  /** XEP-0160: messages stored per offline user; past it the oldest are dropped. */
  maxOfflineMessages: number;
  /** Bytes buffered for a slow reader before PubSub notifications to it are dropped. */
  maxBufferedBytes: number;
  /** A silent client is pinged (XEP-0199) after this many seconds and cut after twice it (0 = never). */
  pingIntervalSec: number;
  /** STARTTLS is offered (and required) when the broker has a certificate. */
  starttls: boolean;
}

export const DEFAULT_XMPP_OPTIONS: XmppOptions = {
  domain: "localhost",
  maxStanzaSize: 262_144,
  maxDepth: 32,
  authTimeoutMs: 30_000,
  resumeTimeoutSec: 300,
  maxOfflineMessages: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  pingIntervalSec: 60,
  starttls: false,
};

/** The adapter's options from the `xmpp` config section; STARTTLS when the broker has a certificate. */
export function xmppOptionsFrom(config: XmppConfig, haveCertificate: boolean): XmppOptions {
  const { port: _port, tlsPort: _tlsPort, ...rest } = config;
  return { ...rest, starttls: haveCertificate };
}
