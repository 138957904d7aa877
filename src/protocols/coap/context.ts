/** What every part of the CoAP adapter shares: options, the router, the log. One per broker. */
import type { Logger } from "../../core/logger.js";
import type { Router } from "../../core/router.js";
import type { NotifyBatch } from "./notify-batch.js";
import type { CoapOptions } from "./options.js";

export interface CoapContext {
  readonly options: CoapOptions;
  readonly router: Router;
  readonly log: Logger;
  /** SZX of the preferred block size. */
  readonly szx: number;
  /** Shared counters for broker-wide budgets. */
  readonly usage: { block1Bytes: number };
  /** Notifications waiting for the end of the event-loop turn. */
  readonly notifications: NotifyBatch;
}
