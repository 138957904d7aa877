/**
 * One HTTP(S) server for every WebSocket endpoint, by path (MQTT at /mqtt, STOMP at /stomp, WAMP at
 * /ws ...), and for plain HTTP routes (the admin API).
 *
 * Subprotocol negotiation (RFC 6455 §4.2.2): the first subprotocol the client offers that the endpoint
 * supports is chosen. A client that offers subprotocols, none of them supported, is refused with
 * HTTP 400. A client that offers none is accepted (lenient: some MQTT clients omit the header); its
 * handler receives "" as the protocol.
 *
 * Byte-stream endpoints (MQTT, STOMP, XMPP) run on `ws`. Message endpoints (WAMP) run on this
 * project's own RFC 6455 server side (src/transports/websocket/): `ws`'s receive path was a large
 * share of the router's CPU in the WAMP benchmark (see websocket/frame-decoder.ts).
 */
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { ignoreError, listenServer, trackSockets, transportInfo } from "./server-lifecycle.js";
import { secureContextOptions, type TlsCredentials } from "./tls.js";
import type { ByteStream, Listener, TransportInfo } from "./types.js";
import { handshakeRefusal, switchingProtocols } from "./websocket/handshake.js";
import { MessageSocket } from "./websocket/message-socket.js";
import { WebSocketStream, type WebSocketStreamOptions } from "./websocket-stream.js";

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
  /** Serve HTTPS / wss. */
  tls?: TlsCredentials;
  /** Largest WebSocket message accepted, in bytes; larger ones close the connection (1009). 16 MiB. */
  maxPayload?: number;
}

export type WebSocketConnectionHandler = (stream: ByteStream, info: TransportInfo, protocol: string) => void;
/** For message-oriented protocols (WAMP): whole messages and their kind, on this project's own WebSocket. */
export type WebSocketMessageHandler = (ws: MessageSocket, info: TransportInfo, protocol: string) => void;
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpServer {
  /** Serve WebSocket upgrades on `path` for clients offering one of `subprotocols` (or none). */
  addWebSocketEndpoint(
    path: string,
    subprotocols: string[],
    onConnection: WebSocketConnectionHandler,
    streamOptions?: WebSocketStreamOptions,
  ): void;
  /**
   * Serve WebSocket upgrades on `path` for a message-oriented protocol: the client must offer one of
   * `subprotocols` (WAMP §14.5.2); `maxPayload` bounds one message for this endpoint.
   */
  addWebSocketMessageEndpoint(
    path: string,
    subprotocols: string[],
    onConnection: WebSocketMessageHandler,
    maxPayload: number,
  ): void;
  /** Serve a plain HTTP request on exact `method` and `path` (query string ignored). */
  addRoute(method: string, path: string, handler: RouteHandler): void;
  /**
   * Serve plain HTTP requests on `method` for every path that starts with `prefix` (ending in "/")
   * and has something after it; exact routes win. The handler reads the rest from req.url.
   */
  addPrefixRoute(method: string, prefix: string, handler: RouteHandler): void;
  listen(): Promise<Listener>;
}

export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

interface Endpoint {
  subprotocols: ReadonlySet<string>;
  /** A subprotocol must be offered (message endpoints); byte endpoints accept none offered. */
  requireSubprotocol: boolean;
  /** Completes the handshake (or refuses it) for a request whose path and subprotocol fit. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, protocol: string): void;
}

export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const secure = opts.tls !== undefined;
  const maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const endpoints = new Map<string, Endpoint>();
  const routes = new Map<string, Map<string, RouteHandler>>(); // path -> method -> handler
  const prefixRoutes: Array<{ prefix: string; byMethod: Map<string, RouteHandler> }> = [];

  const server = opts.tls ? createHttps(secureContextOptions(opts.tls)) : createHttp();
  const sockets = trackSockets(server, secure ? ["connection", "secureConnection"] : ["connection"]);

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url);
    const byMethod =
      routes.get(path) ??
      prefixRoutes.find((r) => path.length > r.prefix.length && path.startsWith(r.prefix))?.byMethod;
    const handler = byMethod?.get(req.method ?? "");
    if (handler) return runRoute(handler, req, res);
    if (byMethod) return reply(res, 405, { Allow: [...byMethod.keys()].join(", ") });
    if (endpoints.has(path)) return reply(res, 426, { Upgrade: "websocket", Connection: "Upgrade" });
    reply(res, 404);
  });

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", ignoreError);
    const endpoint = endpoints.get(pathOf(req.url));
    if (!endpoint) return refuseUpgrade(socket, 404);
    const offered = req.headers["sec-websocket-protocol"];
    const protocol = offered === undefined ? "" : chooseProtocol(offered.split(","), endpoint.subprotocols);
    if (protocol === false || (protocol === "" && endpoint.requireSubprotocol)) {
      return refuseUpgrade(socket, 400);
    }
    endpoint.upgrade(req, socket, head, protocol);
  });

  const kind = secure ? "wss" : "ws";

  return {
    addWebSocketEndpoint(path, subprotocols, onConnection, streamOptions) {
      const supported = new Set(subprotocols);
      const wss = new WebSocketServer({
        noServer: true,
        clientTracking: false, // sockets are tracked by the HTTP server for close()
        perMessageDeflate: false, // compression costs CPU per message on the hot path
        maxPayload,
        handleProtocols: (protocols: Set<string>) => chooseProtocol(protocols, supported),
      });
      endpoints.set(path, {
        subprotocols: supported,
        requireSubprotocol: false,
        upgrade(req, socket, head) {
          wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
            const stream = new WebSocketStream(ws, streamOptions);
            stream.on("error", ignoreError);
            onConnection(stream, transportInfo(socket, kind), ws.protocol);
          });
        },
      });
    },
    addWebSocketMessageEndpoint(path, subprotocols, onConnection, payloadLimit) {
      endpoints.set(path, {
        subprotocols: new Set(subprotocols),
        requireSubprotocol: true,
        upgrade(req, socket, head, protocol) {
          const refusal = handshakeRefusal(req);
          if (refusal !== undefined) return refuseUpgrade(socket, refusal.status, refusal.headers);
          if (!socket.readable || !socket.writable) return socket.destroy();
          socket.write(switchingProtocols(req, protocol));
          const ws = new MessageSocket(socket, head, protocol, payloadLimit);
          onConnection(ws, transportInfo(socket, kind), protocol);
        },
      });
    },
    addRoute(method, path, handler) {
      let byMethod = routes.get(path);
      if (!byMethod) {
        byMethod = new Map();
        routes.set(path, byMethod);
      }
      byMethod.set(method.toUpperCase(), handler);
    },
    addPrefixRoute(method, prefix, handler) {
      let route = prefixRoutes.find((r) => r.prefix === prefix);
      if (!route) {
        route = { prefix, byMethod: new Map() };
        prefixRoutes.push(route);
      }
      route.byMethod.set(method.toUpperCase(), handler);
    },
    listen() {
      return listenServer(server, opts.host, opts.port, sockets);
    },
  };
}

/** The first offered subprotocol that is supported, or false. */
function chooseProtocol(offered: Iterable<string>, supported: ReadonlySet<string>): string | false {
  for (const raw of offered) {
    const name = raw.trim();
    if (supported.has(name)) return name;
  }
  return false;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

function runRoute(handler: RouteHandler, req: IncomingMessage, res: ServerResponse): void {
  try {
    handler(req, res);
  } catch {
    if (!res.headersSent) reply(res, 500);
    else res.destroy();
  }
}

function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  const body = `${status} ${STATUS_TEXT[status] ?? ""}\n`;
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

function refuseUpgrade(socket: Socket, status: number, headers: Record<string, string> = {}): void {
  const body = `${status} ${STATUS_TEXT[status] ?? ""}\n`;
  let extra = "";
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\nConnection: close\r\n${extra}Content-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  500: "Internal Server Error",
};
