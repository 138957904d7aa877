/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2) for message endpoints, whose
 * connections are MessageSocket (message-socket.ts) rather than `ws` (why: frame-decoder.ts).
 * http.ts has chosen the endpoint and the subprotocol; this checks the rest of the request and
 * writes the 101 answer. No extension is negotiated: a permessage-deflate offer is declined by not
 * answering it (§9.1), so frames never carry RSV bits.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The GUID of RFC 6455 §1.3 that the accept value hashes with the client's key. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/**
 * Base64 of 16 bytes (§4.1): 22 characters and "==". The 4 unused bits of the last character are
 * not checked (decoders ignore them), as other servers do not.
 */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

export interface HandshakeRefusal {
  status: number;
  headers?: Record<string, string>;
}

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (§4.2.2): base64 of SHA-1 of key + GUID. */
export function acceptValue(key: string): string {
  return createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
}

/**
 * Why an upgrade request is not a WebSocket opening handshake this server accepts, or undefined when
 * it is: 405 for a method other than GET, 400 without `Upgrade: websocket` and a `Connection` with
 * the `upgrade` token or with a key that is not base64 of 16 bytes, 426 (naming the version spoken)
 * for a version other than 13 (§4.2.2).
 */
export function handshakeRefusal(req: IncomingMessage): HandshakeRefusal | undefined {
  if (req.method !== "GET") return { status: 405, headers: { Allow: "GET" } };
  const h = req.headers;
  if (h.upgrade?.toLowerCase() !== "websocket" || !hasToken(h.connection, "upgrade")) return { status: 400 };
  if (h["sec-websocket-version"] !== "13") return { status: 426, headers: { "Sec-WebSocket-Version": "13" } };
  const key = h["sec-websocket-key"];
  if (key === undefined || !KEY.test(key)) return { status: 400 };
  return undefined;
}

/** The 101 answer for an accepted handshake (the request passed handshakeRefusal). */
export function switchingProtocols(req: IncomingMessage, protocol: string): string {
  const key = req.headers["sec-websocket-key"]!;
  return (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptValue(key)}\r\n` +
    (protocol === "" ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
    "\r\n"
  );
}

/** Whether a comma-separated header (like `Connection: keep-alive, Upgrade`) has `token`, case-insensitively. */
function hasToken(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  for (const part of header.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}
