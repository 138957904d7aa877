/**
 * Connection negotiation (§2.2.4, amqp0-9-1.xml class connection): start / start-ok with SASL PLAIN
 * or AMQPLAIN through the core Auth, tune / tune-ok (channel-max, frame-max, heartbeat), open with a
 * virtual host. A failed login is 403 ACCESS_REFUSED then close (RabbitMQ's
 * authentication_failure_close capability).
 */
import { packageVersion } from "../../../cli/version.js";
import { AmqpError, encodeMethod, FRAME_MIN_SIZE, type Method, Reader, ReplyCode } from "../codec/index.js";
import type { FieldTable } from "../codec/reader.js";
import type { Amqp091Connection } from "../connection.js";

const MECHANISMS = "PLAIN AMQPLAIN";

export function sendStart(c: Amqp091Connection): void {
  const serverProperties: FieldTable = {
    product: "Switchboard",
    version: packageVersion(),
    platform: `Node.js ${process.version}`,
    information: "https://github.com/switchboard (AMQP 0-9-1 compatible with RabbitMQ clients)",
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      "basic.nack": true,
      consumer_cancel_notify: true,
      "connection.blocked": true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    },
  };
  c.write(
    encodeMethod(0, "connection.start", {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties,
      mechanisms: MECHANISMS,
      locales: "en_US",
    }),
  );
}

export function handleHandshake(c: Amqp091Connection, m: Method): void {
  const expected =
    c.state === "start"
      ? "connection.start-ok"
      : c.state === "tune"
        ? "connection.tune-ok"
        : "connection.open";
  if (m.name === "connection.close") {
    c.write(encodeMethod(0, "connection.close-ok"));
    c.end();
    return;
  }
  if (m.name !== expected || c.state === "secure") {
    throw new AmqpError(
      ReplyCode.CommandInvalid,
      `expected '${expected}', got '${m.name}'`,
      m.classId,
      m.methodId,
    );
  }
  if (m.name === "connection.start-ok") startOk(c, m);
  else if (m.name === "connection.tune-ok") tuneOk(c, m);
  else open(c, m);
}

/** PLAIN: "authzid \0 user \0 password"; AMQPLAIN: a field table without its length (LOGIN, PASSWORD). */
function credentials(
  mechanism: string,
  response: Buffer,
): { username: string; password: Buffer } | undefined {
  if (mechanism === "PLAIN") {
    const first = response.indexOf(0);
    const second = first < 0 ? -1 : response.indexOf(0, first + 1);
    if (second < 0) return undefined;
    return {
      username: response.toString("utf8", first + 1, second),
      password: Buffer.from(response.subarray(second + 1)),
    };
  }
  if (mechanism === "AMQPLAIN") {
    const r = new Reader(response);
    let username: string | undefined;
    let password: Buffer | undefined;
    while (r.remaining > 0) {
      const key = r.shortstr();
      const value = r.fieldValue();
      if (key === "LOGIN" && typeof value === "string") username = value;
      if (key === "PASSWORD")
        password =
          typeof value === "string" ? Buffer.from(value) : Buffer.isBuffer(value) ? value : undefined;
    }
    return username === undefined || password === undefined ? undefined : { username, password };
  }
  return undefined;
}

function startOk(c: Amqp091Connection, m: Method): void {
  const mechanism = m.args.mechanism ?? "";
  if (!MECHANISMS.split(" ").includes(mechanism)) {
    throw new AmqpError(
      ReplyCode.AccessRefused,
      `unsupported authentication mechanism '${mechanism}'`,
      m.classId,
      m.methodId,
      true,
    );
  }
  const caps = m.args.clientProperties?.capabilities;
  if (caps && typeof caps === "object" && !Array.isArray(caps) && !Buffer.isBuffer(caps))
    c.capabilities = caps;
  const raw = m.args.response ?? Buffer.alloc(0);
  let creds: { username: string; password: Buffer } | undefined;
  try {
    creds = credentials(mechanism, raw);
  } catch {
    creds = undefined;
  }
  if (!creds) {
    throw new AmqpError(
      ReplyCode.AccessRefused,
      `malformed ${mechanism} response`,
      m.classId,
      m.methodId,
      true,
    );
  }
  c.state = "secure"; // authenticating: nothing else is accepted meanwhile
  const { username, password } = creds;
  c.router.auth
    .authenticate({
      protocol: "amqp091",
      clientId: c.id,
      username,
      password,
      remoteAddress: c.transport.remoteAddress,
      secure: c.transport.secure,
    })
    .then((result) => {
      if (c.state !== "secure") return;
      if (!result.ok) {
        c.state = "tune"; // so closeWith() ends at once: the client has no channel to close
        c.closeWith(
          new AmqpError(
            ReplyCode.AccessRefused,
            `Login was refused using authentication mechanism ${mechanism}`,
            10,
            11,
            true,
          ),
        );
        return;
      }
      c.principal = result.principal;
      c.info.username = result.principal.username;
      c.state = "tune";
      c.write(
        encodeMethod(0, "connection.tune", {
          channelMax: c.options.channelMax,
          frameMax: c.options.frameMax,
          heartbeat: c.options.heartbeat,
        }),
      );
    })
    .catch((err) => c.fail(err));
}

/** The client's values rule within our limits (0 = no limit for channel-max and frame-max). */
function tuneOk(c: Amqp091Connection, m: Method): void {
  const { channelMax = 0, frameMax = 0, heartbeat = 0 } = m.args;
  const ours = c.options;
  if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) {
    throw new AmqpError(
      ReplyCode.NotAllowed,
      `frame-max ${frameMax} below the minimum ${FRAME_MIN_SIZE}`,
      m.classId,
      m.methodId,
    );
  }
  if (frameMax > ours.frameMax) {
    throw new AmqpError(
      ReplyCode.NotAllowed,
      `frame-max ${frameMax} above the offered ${ours.frameMax}`,
      m.classId,
      m.methodId,
    );
  }
  if (channelMax > ours.channelMax) {
    throw new AmqpError(
      ReplyCode.NotAllowed,
      `channel-max ${channelMax} above the offered ${ours.channelMax}`,
      m.classId,
      m.methodId,
    );
  }
  c.channelMax = channelMax === 0 ? ours.channelMax : channelMax;
  c.frameMax = frameMax === 0 ? ours.frameMax : frameMax;
  c.heartbeat = heartbeat;
  c.state = "open";
}

function open(c: Amqp091Connection, m: Method): void {
  const vhost = m.args.virtualHost || "/";
  const state = c.adapter.vhosts.get(vhost);
  if (!state) {
    throw new AmqpError(ReplyCode.NotAllowed, `vhost '${vhost}' not found`, m.classId, m.methodId, true);
  }
  c.vhostState = state;
  c.write(encodeMethod(0, "connection.open-ok"));
  c.opened();
}
