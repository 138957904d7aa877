/**
 * CONNECT / STOMP (STOMP 1.2 §"CONNECT or STOMP Frame"): version negotiation, virtual host,
 * login/passcode through the core Auth, heart-beat negotiation, CONNECTED.
 */
import { packageVersion } from "../../../cli/version.js";
import { header, type StompFrame, type StompVersion, SUPPORTED_VERSIONS } from "../codec/index.js";
import type { StompConnection } from "../connection.js";
import { StompFrameError } from "../errors.js";

/** The highest version both sides speak; 1.0 when the client names none (1.2 §"Protocol Negotiation"). */
export function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  if (acceptVersion === undefined) return "1.0";
  const offered = new Set(acceptVersion.split(",").map((v) => v.trim()));
  for (let i = SUPPORTED_VERSIONS.length - 1; i >= 0; i--) {
    const v = SUPPORTED_VERSIONS[i]!;
    if (offered.has(v)) return v;
  }
  return undefined;
}

/**
 * Heart-beat intervals (1.2 §"Heart-beating"): the client sends `cx,cy`, we answer `sx,sy`. We send
 * every max(sx, cy) ms unless either is 0, and expect the client every max(cx, sy) ms unless either is 0.
 */
export function negotiateHeartbeat(
  clientHeader: string | undefined,
  serverSend: number,
  serverReceive: number,
): { sendEvery: number; expectEvery: number } {
  if (clientHeader === undefined) return { sendEvery: 0, expectEvery: 0 };
  const m = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/.exec(clientHeader);
  if (!m) {
    throw new StompFrameError(
      "bad heart-beat header",
      `heart-beat must be two non-negative integers 'cx,cy', not '${clientHeader}'`,
    );
  }
  const cx = Number(m[1]);
  const cy = Number(m[2]);
  return {
    sendEvery: serverSend === 0 || cy === 0 ? 0 : Math.max(serverSend, cy),
    expectEvery: cx === 0 || serverReceive === 0 ? 0 : Math.max(cx, serverReceive),
  };
}

export async function handleConnect(c: StompConnection, f: StompFrame): Promise<void> {
  const acceptVersion = header(f, "accept-version");
  const version = negotiateVersion(acceptVersion);
  if (version === undefined) {
    // 1.2 §"Protocol Negotiation": ERROR with the versions we support, then close.
    c.sendFrame(
      "ERROR",
      [
        ["version", SUPPORTED_VERSIONS.join(",")],
        ["message", "unsupported protocol version"],
        ["content-type", "text/plain"],
      ],
      `Supported protocol versions are ${SUPPORTED_VERSIONS.join(" ")}\n`,
    );
    c.end();
    return;
  }
  c.version = version;
  c.decoder.version = version;
  c.info.protocolVersion = version;
  const beats =
    version === "1.0"
      ? { sendEvery: 0, expectEvery: 0 }
      : negotiateHeartbeat(header(f, "heart-beat"), c.options.heartbeatSendMs, c.options.heartbeatReceiveMs);

  const host = header(f, "host");
  const vhost = c.options.virtualHost;
  if (vhost !== "" && host !== undefined && host !== vhost) {
    throw new StompFrameError(
      "virtual host not found",
      `virtual host '${host}' does not exist (this broker serves '${vhost}')`,
    );
  }

  const login = header(f, "login");
  const passcode = header(f, "passcode");
  const result = await c.router.auth.authenticate({
    protocol: "stomp",
    clientId: c.id,
    username: login === undefined || login === "" ? undefined : login,
    password: passcode === undefined ? undefined : Buffer.from(passcode),
    remoteAddress: c.transport.remoteAddress,
    secure: c.transport.secure,
  });
  if (c.state === "closed") return;
  if (!result.ok) {
    const why = result.reason === "bad-credentials" ? "bad login or passcode" : "not authorized to connect";
    throw new StompFrameError("access refused", why);
  }
  c.principal = { ...result.principal, clientId: c.id };
  c.info.username = result.principal.username;
  const clientIdHeader = header(f, "client-id");
  c.clientName = clientIdHeader ?? result.principal.username ?? "";

  // A `client-id` is the client's identity in the one client-id space of every protocol: a second
  // connection with it (STOMP, MQTT, ...) takes over, as it does in MQTT (docs/metadata.md "Client ids").
  const routerId = clientIdHeader !== undefined && clientIdHeader !== "" ? clientIdHeader : c.id;
  const { session } = c.router.attach(routerId, "stomp", true, 0, c);
  c.session = session;
  c.state = "connected";
  const headers: Array<[string, string]> = [];
  // A client that negotiated learns the version, 1.0 included; a plain 1.0 client gets none.
  if (acceptVersion !== undefined) headers.push(["version", version]);
  headers.push(["session", c.id], ["server", `${c.options.serverName}/${packageVersion()}`]);
  if (version !== "1.0")
    headers.push(["heart-beat", `${c.options.heartbeatSendMs},${c.options.heartbeatReceiveMs}`]);
  c.sendFrame("CONNECTED", headers);
  c.startHeartbeats(beats.sendEvery, beats.expectEvery);
  c.connectDone();
}
