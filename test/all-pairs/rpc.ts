/**
 * RPC callers of the all-pairs grid (docs/rpc.md): each calls `procedure` with one JSON argument
 * through its protocol's real client and resolves with the result decoded back to a JSON value, or
 * rejects with a GridRpcError: the error URI and args read back from the protocol's own error form,
 * and that form (`form`) so the grid can check it is the documented one.
 */
import type { IMessage } from "@stomp/stompjs";
import amqp from "amqplib";
import autobahn from "autobahn";
import type { IPublishPacket } from "mqtt";
import rhea from "rhea";
import type { TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs } from "../helpers/stomp-clients.js";
import { joinAutobahn, VARIANTS } from "../helpers/wamp.js";
import { connect as amqp10Connect, closeConn, receiver, send, sender } from "../protocols/amqp10/client.js";
import { closeAgent, coapRequest, newAgent } from "../protocols/coap/helpers.js";
import { connectClient } from "../protocols/xmpp/helpers.js";
import { xmppCall } from "../protocols/xmpp/rpc-helpers.js";
import { bodyBytes } from "./amqp10.js";
import { withTimeout } from "./types.js";

export const CALLERS = [
  "WAMP",
  "MQTT 5",
  "MQTT 3.1.1",
  "STOMP",
  "HTTP",
  "CoAP",
  "AMQP 0-9-1",
  "AMQP 1.0",
  "XMPP",
] as const;
export type Caller = (typeof CALLERS)[number];

/** A call that failed, as its caller's protocol reported it. */
export class GridRpcError extends Error {
  constructor(
    readonly uri: string,
    readonly args: unknown[],
    /** Where the protocol put it: "HTTP 404", "CoAP 4.04", "iq item-not-found", "header error", ... */
    readonly form: string,
  ) {
    super(`${form}: ${uri} ${JSON.stringify(args)}`);
  }
}

const WAMP_ARGS = "application/x-wamp+json";

/** An answer's bytes back to arguments by the core mapping (docs/rpc.md "Payload mapping"). */
function argsOf(payload: Buffer, contentType: string | undefined): unknown[] {
  if (payload.length === 0) return [];
  if (contentType === WAMP_ARGS) return (JSON.parse(payload.toString()) as [unknown[]])[0];
  if (contentType === "application/json") return [JSON.parse(payload.toString())];
  return [payload.toString()];
}

/** A result with one JSON argument, or the error the answer carries (`uri` undefined: a result). */
function answer(
  uri: string | undefined,
  payload: Buffer,
  contentType: string | undefined,
  form: string,
): unknown {
  if (uri !== undefined) throw new GridRpcError(uri, argsOf(payload, contentType), form);
  return JSON.parse(payload.toString());
}

/** The JSON error document of HTTP, CoAP and MQTT 3.1.1: `{"error", "args", "kwargs"}`. */
function jsonError(text: string, form: string): GridRpcError {
  const doc = JSON.parse(text) as { error: string; args?: unknown[] };
  return new GridRpcError(doc.error, doc.args ?? [], form);
}

let replies = 0;

/** Call options; only WAMP callers choose a timeout (CALL option `timeout`), the others get rpc.timeoutMs. */
export interface CallOptions {
  wampTimeoutMs?: number;
}

type CallFn = (b: TestBroker, procedure: string, arg: unknown, opts: CallOptions) => Promise<unknown>;

const CALL: Record<Caller, CallFn> = {
  async WAMP(b, procedure, arg, opts) {
    const w = await joinAutobahn(b, VARIANTS[0]!);
    try {
      const options = opts.wampTimeoutMs === undefined ? {} : { timeout: opts.wampTimeoutMs };
      const result = w.session.call(procedure, [arg], {}, options) as Promise<unknown>;
      return await withTimeout(result, 5000, "WAMP call");
    } catch (e) {
      // autobahn rejects a call with its Error: the ERROR message's URI, args and kwargs.
      const err = e as { error?: unknown; args?: unknown[] };
      if (e instanceof autobahn.Error && typeof err.error === "string")
        throw new GridRpcError(err.error, err.args ?? [], "ERROR");
      throw e;
    } finally {
      await w.close();
    }
  },
  "MQTT 5": (b, procedure, arg) => callMqtt(b, true, procedure, arg),
  "MQTT 3.1.1": (b, procedure, arg) => callMqtt(b, false, procedure, arg),
  async STOMP(b, procedure, arg) {
    const client = await stompjs({ tcp: b.stompPort });
    try {
      const n = ++replies;
      const reply = `/temp-queue/grid-${n}`;
      const got = new Promise<IMessage>((resolve) => {
        client.onUnhandledMessage = resolve;
      });
      client.publish({
        destination: `/rpc/${procedure}`,
        body: JSON.stringify(arg),
        headers: { "reply-to": reply, "correlation-id": `c${n}`, "content-type": "application/json" },
      });
      const m = await withTimeout(got, 5000, "STOMP answer");
      if (m.headers["correlation-id"] !== `c${n}`) throw new Error("correlation-id not echoed");
      return answer(m.headers.error, Buffer.from(m.binaryBody), m.headers["content-type"], "header error");
    } finally {
      await client.deactivate();
    }
  },
  async HTTP(b, procedure, arg) {
    const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/rpc/${procedure}`, {
      method: "POST",
      body: JSON.stringify({ args: [arg] }),
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status !== 200) throw jsonError(await res.text(), `HTTP ${res.status}`);
    return res.json();
  },
  async CoAP(b, procedure, arg) {
    const agent = newAgent();
    try {
      const res = await coapRequest(
        {
          agent,
          port: b.coapPort,
          method: "POST",
          pathname: `/rpc/${procedure.replace(/\./g, "/")}`,
          payload: JSON.stringify(arg),
          options: { "Content-Format": "application/json" },
        },
        5000,
      );
      if (String(res.code) !== "2.05") throw jsonError(res.payload.toString(), `CoAP ${res.code}`);
      return JSON.parse(res.payload.toString());
    } finally {
      closeAgent(agent);
    }
  },
  "AMQP 0-9-1": callAmqp091,
  "AMQP 1.0": callAmqp10,
  async XMPP(b, procedure, arg) {
    // iq set <call xmlns='urn:switchboard:rpc'> to the server (docs/rpc.md "XMPP").
    const c = await connectClient(b, { username: `grid-rpc-${++replies}`, presence: false });
    try {
      const r = await xmppCall(c, procedure, JSON.stringify(arg), { "content-type": "application/json" });
      if (r.type === "error")
        throw new GridRpcError(r.uri ?? "?", r.args ?? [], `iq ${r.condition} (${r.errorType})`);
      return r.args?.[0];
    } finally {
      await c.stop();
    }
  },
};

export function call(
  b: TestBroker,
  caller: Caller,
  procedure: string,
  arg: unknown,
  opts: CallOptions = {},
): Promise<unknown> {
  return CALL[caller](b, procedure, arg, opts);
}

/** MQTT 5: Response Topic and Correlation Data; MQTT 3.1.1: the reply topic in the path, errors on `<reply>/error`. */
async function callMqtt(b: TestBroker, v5: boolean, procedure: string, arg: unknown): Promise<unknown> {
  const client = await connect(b.mqttUrl, { protocolVersion: v5 ? 5 : 4 });
  try {
    const n = ++replies;
    const reply = `grid/rpc/reply/${n}`;
    await client.subscribeAsync([reply, `${reply}/error`], { qos: 1 });
    const got = new Promise<IPublishPacket>((resolve) =>
      client.on("message", (t: string, _p: Buffer, packet: IPublishPacket) => {
        if (t === reply || t === `${reply}/error`) resolve(packet);
      }),
    );
    const body = JSON.stringify(arg);
    if (v5)
      await client.publishAsync(`$rpc/${procedure}`, body, {
        qos: 1,
        properties: {
          responseTopic: reply,
          correlationData: Buffer.from(`c${n}`),
          contentType: "application/json",
        },
      });
    else await client.publishAsync(`$rpc/${procedure}/${reply}`, body, { qos: 1 });
    const packet = await withTimeout(got, 5000, `MQTT ${v5 ? 5 : "3.1.1"} answer`);
    const payload = Buffer.from(packet.payload);
    if (!v5) {
      if (packet.topic === `${reply}/error`) throw jsonError(payload.toString(), "<reply>/error JSON");
      return JSON.parse(payload.toString());
    }
    const p = packet.properties ?? {};
    if (Buffer.from(p.correlationData ?? []).toString() !== `c${n}`)
      throw new Error("correlation data not echoed");
    const e = p.userProperties?.error;
    return answer(Array.isArray(e) ? e[0] : e, payload, p.contentType, "user property error");
  } finally {
    await endClient(client, true);
  }
}

/** basic.publish to amq.rpc, answered through direct reply-to (RabbitMQ's RPC pattern). */
async function callAmqp091(b: TestBroker, procedure: string, arg: unknown): Promise<unknown> {
  const conn = await amqp.connect(b.amqpUrl);
  try {
    const ch = await conn.createChannel();
    const corr = `a${++replies}`;
    const got = new Promise<amqp.ConsumeMessage>((resolve) => {
      void ch.consume(
        "amq.rabbitmq.reply-to",
        (m) => m && m.properties.correlationId === corr && resolve(m),
        {
          noAck: true,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 50));
    ch.publish("amq.rpc", procedure, Buffer.from(JSON.stringify(arg)), {
      replyTo: "amq.rabbitmq.reply-to",
      correlationId: corr,
      contentType: "application/json",
    });
    const m = await withTimeout(got, 5000, "AMQP 0-9-1 answer");
    const e = m.properties.headers?.error;
    return answer(
      e === undefined ? undefined : String(e),
      m.content,
      m.properties.contentType,
      "header error",
    );
  } finally {
    await conn.close();
  }
}

/** A transfer to `/rpc/<procedure>` with reply-to a dynamic receiver node (docs/rpc.md "AMQP 1.0"). */
async function callAmqp10(b: TestBroker, procedure: string, arg: unknown): Promise<unknown> {
  const conn = await amqp10Connect(b.amqpPort);
  try {
    const replyInbox = await receiver(conn, { source: { dynamic: true } } as never);
    const address = (replyInbox.receiver as unknown as { source: { address: string } }).source.address;
    const s = await sender(conn, `/rpc/${procedure}`);
    const corr = `q${++replies}`;
    const out = await send(s, {
      body: rhea.message.data_section(Buffer.from(JSON.stringify(arg))),
      content_type: "application/json",
      reply_to: address,
      correlation_id: corr,
    });
    if (out.outcome !== "accepted") throw new Error(`call transfer ${out.outcome}`);
    const [got] = await replyInbox.take(1, 5000);
    const m = got!.message;
    if (String(m.correlation_id) !== corr) throw new Error("correlation-id not echoed");
    const e = (m.application_properties as Record<string, unknown> | undefined)?.error;
    const uri = e === undefined ? undefined : String(e);
    return answer(uri, bodyBytes(m.body), m.content_type, "application property error");
  } finally {
    await closeConn(conn);
  }
}
