/** DISCONNECT (STOMP 1.2 §"DISCONNECT"): RECEIPT once everything before it is done, then close. */
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";

export function handleDisconnect(c: StompConnection, f: StompFrame): void {
  // Open transactions are aborted (1.2 §"BEGIN": "implicitly aborted" on disconnect).
  c.transactions.clear();
  if (header(f, "receipt") === undefined) {
    c.end();
    return;
  }
  c.receiptFor(f, () => c.end());
}
