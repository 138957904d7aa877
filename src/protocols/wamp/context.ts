/** What a WampConnection and its handlers need from the adapter: shared state, no I/O of their own. */
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { WampConnection } from "./connection.js";
import type { MetaEvents } from "./meta/events.js";
import type { WampOptions } from "./options.js";
import type { SubscriptionRegistry } from "./subscriptions.js";

export interface WampContext {
  readonly router: Router;
  readonly options: WampOptions;
  readonly log: Logger;
  readonly subscriptions: SubscriptionRegistry;
  readonly meta: MetaEvents;
  /** True when `realm` may be joined (configured, or created now when auto-creation is on). */
  openRealm(realm: string): boolean;
  /** True when anonymous clients may join `realm`. */
  anonymousAllowed(realm: string): boolean;
  /** The connection's session is ending: drop its subscriptions and registrations. */
  leave(conn: WampConnection): void;
  /** The transport closed. */
  forget(conn: WampConnection): void;
  /** A fresh core client id for a WAMP session. */
  newClientId(): string;
}
