/** Listening and prompt shutdown shared by the TCP, TLS and HTTP(S) listeners. Internal. */
import type { AddressInfo, Server, Socket } from "node:net";
import type { Listener, TransportInfo, TransportKind } from "./types.js";

/** A no-op 'error' listener: a client resetting its connection must not crash the broker. */
export function ignoreError(): void {}

/**
 * Track every socket the server emits on the given events (e.g. the raw 'connection' and, for TLS,
 * 'secureConnection'), so close() can destroy them, including upgraded and mid-handshake ones.
 */
export function trackSockets(server: Server, events: readonly string[]): Set<Socket> {
  const sockets = new Set<Socket>();
  // One listener function per server, not a closure (and a once() wrapper) per socket: 'close' is
  // emitted once, and `this` is the socket.
  const untrack = function (this: Socket): void {
    sockets.delete(this);
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", untrack);
  };
  for (const event of events) server.on(event, track);
  return sockets;
}

/** Bind and resolve with a Listener whose close() stops listening and destroys open sockets. */
export function listenServer(
  server: Server,
  host: string,
  port: number,
  sockets: Set<Socket>,
): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const bound = (server.address() as AddressInfo).port;
      resolve({ port: bound, close: () => closeServer(server, sockets) });
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}

export function transportInfo(socket: Socket, kind: TransportKind): TransportInfo {
  return {
    kind,
    remoteAddress: socket.remoteAddress ?? "",
    remotePort: socket.remotePort ?? 0,
    secure: kind === "tls" || kind === "wss",
  };
}
