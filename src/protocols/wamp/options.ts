/** The WAMP adapter's settings (config key `wamp`, README "Configuration reference"). */
import { DEFAULT_CONFIG } from "../../config/defaults.js";
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

export function wampOptionsFrom(c: WampConfig): WampOptions {
  const { port: _port, ...rest } = c;
  return { ...rest };
}

export const DEFAULT_WAMP_OPTIONS: WampOptions = wampOptionsFrom(DEFAULT_CONFIG.wamp);
