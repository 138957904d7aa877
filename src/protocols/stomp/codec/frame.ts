/**
 * STOMP frames (STOMP 1.2 §"STOMP Frames"): a command, an ordered list of headers (repeats kept:
 * the first occurrence is the one that counts) and a body of bytes.
 */

export type StompVersion = "1.0" | "1.1" | "1.2";

/** Versions we speak, oldest first (for the CONNECTED / ERROR `version` header). */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = ["1.0", "1.1", "1.2"];

export type Header = [name: string, value: string];

export interface StompFrame {
  command: string;
  headers: Header[];
  body: Buffer;
}

/** Client frames the server understands (STOMP 1.2 §"Client Frames"). */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set([
  "CONNECT",
  "STOMP",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
]);

/** The first value of `name` ("If a client or a server receives repeated frame header entries, only
 * the first header entry SHOULD be used", STOMP 1.2 §"Repeated Header Entries"). */
export function header(frame: StompFrame, name: string): string | undefined {
  const h = frame.headers;
  for (let i = 0; i < h.length; i++) if (h[i]![0] === name) return h[i]![1];
  return undefined;
}

/** Whether the CONNECT / CONNECTED frames' headers are escaped: they never are (STOMP 1.2 §"Value Encoding"). */
export function escapesHeaders(version: StompVersion, command: string): boolean {
  return version !== "1.0" && command !== "CONNECT" && command !== "CONNECTED" && command !== "STOMP";
}
