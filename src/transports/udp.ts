/**
 * UDP listener (CoAP). Datagrams are handed to the adapter with a sender bound to the socket that
 * received them, so answers leave from the same address family. Multicast groups, when asked for,
 * get their own socket bound to the group address: Node does not report a datagram's destination
 * address, and the adapter must know a request came by multicast (RFC 7252 §8).
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import type { Listener } from "./types.js";

export interface DatagramSender {
  /** Sends one datagram made of the given parts (no concatenation copy). */
  send(parts: Buffer | readonly Buffer[], port: number, address: string): void;
}

export type DatagramHandler = (
  data: Buffer,
  from: RemoteInfo,
  reply: DatagramSender,
  multicast: boolean,
) => void;

export interface UdpListenOptions {
  host: string;
  /** 0 picks a free port; Listener.port reports it. */
  port: number;
  /** Multicast groups to join on the same port (each on its own socket); none by default. */
  multicastGroups?: readonly string[];
  /** For an IPv6 host: refuse IPv4-mapped traffic (default true). */
  ipv6Only?: boolean;
  /** Receive buffer size (SO_RCVBUF), for bursts. */
  recvBufferSize?: number;
}

export interface UdpListener extends Listener {
  readonly sender: DatagramSender;
  /** Groups that could not be joined, with the reason. */
  readonly multicastErrors: readonly string[];
}

/**
 * Replies go to the address a datagram came from: an IP literal. dgram resolves every send's
 * address through its lookup function, and the default one (dns.lookup) answers even a literal on
 * the next tick; this one answers a literal at once, so a reply is sent while handling the request.
 */
function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // A server answering one busy client sends to the same address string again and again: it is
  // recognized without isIP's regular expression.
  if (address === lastLiteral) {
    callback(null, address, lastFamily);
    return;
  }
  const f = isIP(address);
  if (f === 0) {
    dnsLookup(address, family as number, callback);
    return;
  }
  lastLiteral = address;
  lastFamily = f;
  callback(null, address, f);
}

let lastLiteral = "";
let lastFamily = 0;

function isIpv6(host: string): boolean {
  return host.includes(":");
}

function bind(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once("error", onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
}

function senderOf(socket: Socket): DatagramSender {
  return {
    send(parts, port, address) {
      // A send error (e.g. an unreachable peer) goes to the socket's error listener: dropped.
      socket.send(parts as Buffer[], port, address);
    },
  };
}

export async function listenUdp(opts: UdpListenOptions, onDatagram: DatagramHandler): Promise<UdpListener> {
  const groups = opts.multicastGroups ?? [];
  const reuseAddr = groups.length > 0;
  const v6host = isIpv6(opts.host);
  // An IPv6 companion on :: leaves IPv4 to the IPv4 listener (same port, no clash); `host: "::"`
  // alone is dual-stack.
  const ipv6Only = opts.ipv6Only ?? true;
  const socket = createSocket(
    v6host
      ? { type: "udp6", reuseAddr, ipv6Only, lookup: literalLookup }
      : { type: "udp4", reuseAddr, lookup: literalLookup },
  );
  const sender = senderOf(socket);
  socket.on("message", (data, from) => onDatagram(data, from, sender, false));
  socket.on("error", () => {});
  await bind(socket, opts.host, opts.port);
  if (opts.recvBufferSize) {
    try {
      socket.setRecvBufferSize(opts.recvBufferSize);
    } catch {
      // The OS may cap it; the default still works.
    }
  }
  const port = socket.address().port;
  const sockets: Socket[] = [socket];
  const multicastErrors: string[] = [];
  for (const group of groups) {
    const v6 = isIpv6(group);
    if (v6 !== v6host) continue; // a group of the other family goes with that listener
    const m = createSocket(
      v6 ? { type: "udp6", reuseAddr: true, ipv6Only: true } : { type: "udp4", reuseAddr: true },
    );
    m.on("message", (data, from) => onDatagram(data, from, sender, true));
    try {
      await new Promise<void>((resolve, reject) => {
        m.once("error", reject);
        m.bind({ address: group, port }, () => {
          m.off("error", reject);
          resolve();
        });
      });
      m.addMembership(group);
      m.on("error", () => {});
      sockets.push(m);
    } catch (err) {
      // A machine without a multicast route (or IPv6) still serves unicast: reported, not fatal.
      multicastErrors.push(`${group}: ${String(err)}`);
      m.close();
    }
  }
  return {
    port,
    sender,
    multicastErrors,
    close: () =>
      Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
        () => {},
      ),
  };
}

/** The IPv6 address that goes with an IPv4 listen address: loopback with loopback, any with any. */
export function ipv6Companion(host: string): string | undefined {
  if (host === "127.0.0.1" || host === "localhost") return "::1";
  if (host === "0.0.0.0") return "::";
  return undefined;
}

/** All-CoAP-Nodes (RFC 7252 §12.8): IPv4, IPv6 link-local and site-local scope. */
export const ALL_COAP_NODES = ["224.0.1.187", "ff02::fd", "ff05::fd"] as const;

/**
 * The CoAP listeners: `host` (either family), and an IPv6 companion on the same port when given.
 * A machine without IPv6 keeps the IPv4 listener (logged, not fatal).
 */
export async function listenCoap(
  host: string,
  port: number,
  host6: string | undefined,
  multicast: boolean,
  onDatagram: DatagramHandler,
  log: { warn(msg: string, fields?: Record<string, unknown>): void },
): Promise<{ listeners: UdpListener[]; port: number; port6: number | undefined }> {
  const groups = multicast ? ALL_COAP_NODES : [];
  const dualStack = host === "::" && host6 === undefined;
  const main = await listenUdp(
    { host, port, multicastGroups: groups, recvBufferSize: 4 << 20, ipv6Only: !dualStack },
    onDatagram,
  );
  const listeners = [main];
  for (const e of main.multicastErrors) log.warn("coap: multicast group not joined", { error: e });
  let port6: number | undefined;
  if (host6 !== undefined && host6 !== host) {
    try {
      const l6 = await listenUdp({ host: host6, port: main.port, multicastGroups: groups }, onDatagram);
      listeners.push(l6);
      port6 = l6.port;
      for (const e of l6.multicastErrors) log.warn("coap: multicast group not joined", { error: e });
    } catch (err) {
      log.warn("coap: no IPv6 listener", { host: host6, error: String(err) });
    }
  }
  return { listeners, port: main.port, port6 };
}
