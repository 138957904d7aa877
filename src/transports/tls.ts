/** TLS listener. A tls.TLSSocket is handed to the adapter as its ByteStream, without a wrapper. */
import type { Socket } from "node:net";
import { createServer, TLSSocket } from "node:tls";
import { ignoreError, listenServer, trackSockets, transportInfo } from "./server-lifecycle.js";
import type { ByteStream, ConnectionHandler, Listener } from "./types.js";

export interface TlsCredentials {
  /** PEM certificate (chain). */
  cert: Buffer | string;
  /** PEM private key. */
  key: Buffer | string;
  /** PEM CA certificate(s): trusted issuers for client certificates, when requestCert is set. */
  ca?: Buffer | string;
  /** Ask clients for a certificate (mutual TLS). Default false. */
  requestCert?: boolean;
  /** With requestCert: refuse clients whose certificate does not verify against ca. Default true. */
  rejectUnauthorized?: boolean;
}

export interface TlsListenOptions extends TlsCredentials {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
}

/** The tls.createServer options for a set of credentials (shared with the HTTPS server). */
export function secureContextOptions(creds: TlsCredentials) {
  const requestCert = creds.requestCert ?? false;
  return {
    cert: creds.cert,
    key: creds.key,
    ca: creds.ca,
    requestCert,
    rejectUnauthorized: requestCert ? (creds.rejectUnauthorized ?? true) : false,
  };
}

export function listenTls(opts: TlsListenOptions, onConnection: ConnectionHandler): Promise<Listener> {
  const server = createServer(secureContextOptions(opts));
  // Raw sockets are tracked too, so connections still in the handshake are destroyed by close().
  const sockets = trackSockets(server, ["connection", "secureConnection"]);
  server.on("secureConnection", (socket: TLSSocket) => {
    socket.setNoDelay(true);
    socket.on("error", ignoreError);
    const stream: ByteStream = socket; // checked by the compiler: no wrapper needed
    onConnection(stream, transportInfo(socket, "tls"));
  });
  return listenServer(server, opts.host, opts.port, sockets);
}

/**
 * Turns an accepted plain TCP connection into a server-side TLS one in place (XMPP STARTTLS,
 * RFC 6120 §5): bytes read from now on are TLS records. The caller stops reading the plain stream.
 */
export function upgradeToTls(stream: ByteStream, creds: TlsCredentials): TLSSocket {
  const socket = stream as unknown as Socket;
  socket.removeAllListeners("data");
  const secure = new TLSSocket(socket, { isServer: true, ...secureContextOptions(creds) });
  secure.setNoDelay?.(true);
  secure.on("error", ignoreError);
  return secure;
}
