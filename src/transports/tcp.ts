/** Plain TCP listener. A net.Socket is handed to the adapter as its ByteStream, without a wrapper. */
import { createServer, type Socket } from "node:net";
import { ignoreError, listenServer, trackSockets, transportInfo } from "./server-lifecycle.js";
import type { ByteStream, ConnectionHandler, Listener } from "./types.js";

export interface TcpListenOptions {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
}

export function listenTcp(opts: TcpListenOptions, onConnection: ConnectionHandler): Promise<Listener> {
  // TCP_NODELAY set by libuv on accept, without a Socket.setNoDelay call per connection.
  const server = createServer({ noDelay: true });
  const sockets = trackSockets(server, ["connection"]);
  server.on("connection", (socket: Socket) => {
    socket.on("error", ignoreError);
    const stream: ByteStream = socket; // checked by the compiler: no wrapper needed
    onConnection(stream, transportInfo(socket, "tcp"));
  });
  return listenServer(server, opts.host, opts.port, sockets);
}
