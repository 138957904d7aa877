/**
 * Who is asking, for the admin API: HTTP Basic authentication (RFC 7617) through the core Auth, so
 * the users file and the anonymous policy (config/policy.ts) are the same as for every protocol. A
 * request without credentials is an anonymous client: allowed only when the broker allows those.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Auth, Principal } from "../core/auth.js";

export const REALM = 'Basic realm="switchboard", charset="UTF-8"';

/** The principal of `req`, or undefined after answering 401 (or 400 for a malformed header). */
export async function authenticateRequest(
  auth: Auth,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Principal | undefined> {
  const header = req.headers.authorization;
  let username: string | undefined;
  let password: Buffer | undefined;
  if (header !== undefined) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (m === null) {
      sendJson(
        res,
        401,
        { error: "unsupported authorization scheme (use Basic)" },
        { "WWW-Authenticate": REALM },
      );
      return undefined;
    }
    const decoded = Buffer.from(m[1]!, "base64");
    const colon = decoded.indexOf(0x3a);
    if (colon < 0) {
      sendJson(res, 400, { error: "malformed Basic credentials" });
      return undefined;
    }
    username = decoded.subarray(0, colon).toString("utf8");
    password = decoded.subarray(colon + 1);
  }
  const result = await auth.authenticate({
    protocol: "http",
    clientId: `http:${req.socket.remoteAddress ?? ""}:${req.socket.remotePort ?? 0}`,
    username,
    password,
    remoteAddress: req.socket.remoteAddress,
    secure: (req.socket as TLSSocket).encrypted === true,
  });
  if (!result.ok) {
    sendJson(res, 401, { error: "authentication required" }, { "WWW-Authenticate": REALM });
    return undefined;
  }
  return result.principal;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The request body, at most `limit` bytes; undefined (after a 413) when it is larger. */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        sendJson(res, 413, { error: `body larger than ${limit} bytes` }, { Connection: "close" });
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on("error", () => {
      if (done) return;
      done = true;
      resolve(undefined);
    });
  });
}
