/** The WAMP adapter's settings (config key `wamp`, README "Configuration reference"). */
import type { WampConfig } from "../../config/schema.js";
import type { UriCheck } from "./codec/uri.js";

export interface WampOptions {
  realms: readonly string[];
  autoCreateRealms: boolean;
  /** Realms anonymous clients may join; "*" = every realm. */
  anonymousRealms: readonly string[];
  maxMessageSize: number;
  uriCheck: UriCheck;
  eventHistory: number;
  helloTimeoutMs: number;
  maxBufferedBytes: number;
}

export const DEFAULT_WAMP_OPTIONS: WampOptions = {
  realms: ["realm1"],
  autoCreateRealms: false,
  anonymousRealms: ["*"],
  maxMessageSize: 1_048_576,
  uriCheck: "loose",
  eventHistory: 0,
  helloTimeoutMs: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
};

export function wampOptionsFrom(c: WampConfig): WampOptions {
  const { port: _port, ...rest } = c;
  return { ...rest };
}
