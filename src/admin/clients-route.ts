/**
 * `GET /api/clients`: the device directory (docs/admin.md) from the core Presence: every connected
 * client of every protocol with its principal, address, connection time, subscriptions,
 * registrations and message counts. Gated by the ACL: the user needs `subscribe` on
 * `$SYS/clients/#`, the topic the same presence events are published on.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClientRecord } from "../core/presence.js";
import type { Router } from "../core/router.js";
import { authenticateRequest, sendJson } from "./http-auth.js";

export const CLIENTS_PATH = "/api/clients";
export const DIRECTORY_TOPIC = "$SYS/clients/#";

export interface DirectoryEntry {
  protocol: string;
  protocolVersion: string;
  clientId: string;
  /** The authenticated user name; null for an anonymous client. */
  principal: string | null;
  remoteAddress: string;
  remotePort: number;
  transport: string;
  /** ISO 8601. */
  connectedSince: string;
  subscriptions: string[];
  registrations: string[];
  messagesIn: number;
  messagesOut: number;
}

export function directoryEntry(r: ClientRecord): DirectoryEntry {
  return {
    protocol: r.protocol,
    protocolVersion: r.protocolVersion,
    clientId: r.clientId,
    principal: r.username ?? r.authId ?? null,
    remoteAddress: r.remoteAddress,
    remotePort: r.remotePort,
    transport: r.transport,
    connectedSince: new Date(r.connectedAt).toISOString(),
    subscriptions: r.subscriptions,
    registrations: r.registrations,
    messagesIn: r.messagesIn,
    messagesOut: r.messagesOut,
  };
}

export function clientsRoute(router: Router) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const principal = await authenticateRequest(router.auth, req, res);
      if (principal === undefined) return;
      if (!router.auth.authorize(principal, "subscribe", DIRECTORY_TOPIC)) {
        return sendJson(res, 403, { error: "not authorized: needs subscribe on $SYS/clients/#" });
      }
      sendJson(res, 200, router.presence.list().map(directoryEntry));
    })().catch(() => sendJson(res, 500, { error: "internal error" }));
  };
}
