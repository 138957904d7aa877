/**
 * BEGIN / COMMIT / ABORT (STOMP 1.2 §"BEGIN" ...). SEND, ACK and NACK frames naming a transaction are
 * held, in order, and run at COMMIT; ABORT drops them (acks not done leave their messages
 * unacknowledged). Each transaction holds at most maxTransactionFrames frames, and as many
 * transactions may be open: a client cannot grow the broker's memory through them without bound.
 */
import { header, type StompFrame } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { required, StompFrameError } from "../errors.js";

const TRANSACTIONAL: ReadonlySet<string> = new Set(["SEND", "ACK", "NACK"]);

/** Holds the frame when it belongs to a transaction; true when it did. */
export function bufferInTransaction(c: StompConnection, f: StompFrame): boolean {
  if (!TRANSACTIONAL.has(f.command)) return false;
  const tx = header(f, "transaction");
  if (tx === undefined) return false;
  const frames = c.transactions.get(tx);
  if (!frames) throw unknownTransaction(tx, f.command);
  if (frames.length >= c.options.maxTransactionFrames) {
    throw new StompFrameError(
      "transaction too large",
      `transaction '${tx}' holds ${frames.length} frames, the limit`,
    );
  }
  // The body may be a view into the read buffer: keep a copy, not the whole buffer.
  frames.push({ command: f.command, headers: f.headers, body: Buffer.from(f.body) });
  return true;
}

export function handleBegin(c: StompConnection, f: StompFrame): void {
  const tx = required(header(f, "transaction"), "transaction", "BEGIN");
  if (c.transactions.has(tx))
    throw new StompFrameError("transaction already begun", `transaction '${tx}' is already open`);
  if (c.transactions.size >= c.options.maxTransactionFrames) {
    throw new StompFrameError(
      "too many transactions",
      `at most ${c.options.maxTransactionFrames} open transactions`,
    );
  }
  c.transactions.set(tx, []);
}

export function handleCommit(c: StompConnection, f: StompFrame): void {
  const tx = required(header(f, "transaction"), "transaction", "COMMIT");
  const frames = c.transactions.get(tx);
  if (!frames) throw unknownTransaction(tx, "COMMIT");
  c.transactions.delete(tx);
  for (const frame of frames) {
    if (c.state !== "connected") return;
    c.dispatch(frame, true);
  }
}

export function handleAbort(c: StompConnection, f: StompFrame): void {
  const tx = required(header(f, "transaction"), "transaction", "ABORT");
  if (!c.transactions.delete(tx)) throw unknownTransaction(tx, "ABORT");
}

function unknownTransaction(tx: string, command: string): StompFrameError {
  return new StompFrameError(
    "unknown transaction",
    `${command} names transaction '${tx}', which is not open`,
  );
}
