/**
 * RPC callers of the all-pairs grid (docs/rpc.md): each calls `procedure` with one JSON argument and
 * resolves with the result decoded back to a JSON value, through its protocol's real client.
 */
import type { IMessage } from "@stomp/stompjs";
import amqp from "amqplib";
import type { IPublishPacket } from "mqtt";
import type { TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs } from "../helpers/stomp-clients.js";
import { joinAutobahn, VARIANTS } from "../helpers/wamp.js";
import { closeAgent, coapRequest, newAgent } from "../protocols/coap/helpers.js";
import { withTimeout } from "./types.js";

export const CALLERS = ["WAMP", "MQTT 5", "MQTT 3.1.1", "STOMP", "HTTP", "CoAP", "AMQP 0-9-1"] as const;
export type Caller = (typeof CALLERS)[number];

let replies = 0;

export async function call(b: TestBroker, caller: Caller, procedure: string, arg: unknown): Promise<unknown> {
  const body = JSON.stringify(arg);
  switch (caller) {
    case "AMQP 0-9-1": {
      // basic.publish to amq.rpc, answered through direct reply-to (RabbitMQ's RPC pattern).
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
        ch.publish("amq.rpc", procedure, Buffer.from(body), {
          replyTo: "amq.rabbitmq.reply-to",
          correlationId: corr,
          contentType: "application/json",
        });
        const m = await withTimeout(got, 5000, "AMQP 0-9-1 answer");
        if (m.properties.headers?.error !== undefined)
          throw new Error(`error ${String(m.properties.headers.error)}`);
        return JSON.parse(m.content.toString());
      } finally {
        await conn.close();
      }
    }
    case "WAMP": {
      const w = await joinAutobahn(b, VARIANTS[0]!);
      try {
        return await withTimeout(w.session.call(procedure, [arg]) as Promise<unknown>, 5000, "WAMP call");
      } finally {
        await w.close();
      }
    }
    case "MQTT 5":
    case "MQTT 3.1.1": {
      const v5 = caller === "MQTT 5";
      const client = await connect(b.mqttUrl, { protocolVersion: v5 ? 5 : 4 });
      try {
        const reply = `grid/rpc/reply/${++replies}`;
        await client.subscribeAsync(reply, { qos: 1 });
        const got = new Promise<IPublishPacket>((resolve) =>
          client.on("message", (t: string, _p: Buffer, packet: IPublishPacket) => {
            if (t === reply) resolve(packet);
          }),
        );
        // MQTT 5: Response Topic and Correlation Data; MQTT 3.1.1: the reply topic in the path.
        if (v5)
          await client.publishAsync(`$rpc/${procedure}`, body, {
            qos: 1,
            properties: {
              responseTopic: reply,
              correlationData: Buffer.from(`c${replies}`),
              contentType: "application/json",
            },
          });
        else await client.publishAsync(`$rpc/${procedure}/${reply}`, body, { qos: 1 });
        const packet = await withTimeout(got, 5000, `${caller} answer`);
        if (v5 && Buffer.from(packet.properties?.correlationData ?? []).toString() !== `c${replies}`)
          throw new Error("correlation data not echoed");
        return JSON.parse(packet.payload.toString());
      } finally {
        await endClient(client, true);
      }
    }
    case "STOMP": {
      const client = await stompjs({ tcp: b.stompPort });
      try {
        const reply = `/temp-queue/grid-${++replies}`;
        const got = new Promise<IMessage>((resolve) => {
          client.onUnhandledMessage = resolve;
        });
        client.publish({
          destination: `/rpc/${procedure}`,
          body,
          headers: { "reply-to": reply, "correlation-id": `c${replies}`, "content-type": "application/json" },
        });
        const m = await withTimeout(got, 5000, "STOMP answer");
        if (m.headers["correlation-id"] !== `c${replies}`) throw new Error("correlation-id not echoed");
        return JSON.parse(m.body);
      } finally {
        await client.deactivate();
      }
    }
    case "HTTP": {
      const res = await fetch(`http://127.0.0.1:${b.httpPort}/api/rpc/${procedure}`, {
        method: "POST",
        body: JSON.stringify({ args: [arg] }),
        headers: { "content-type": "application/json" },
        signal: AbortSignal.timeout(5000),
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      return res.json();
    }
    case "CoAP": {
      const agent = newAgent();
      try {
        const res = await coapRequest(
          {
            agent,
            port: b.coapPort,
            method: "POST",
            pathname: `/rpc/${procedure.replace(/\./g, "/")}`,
            payload: body,
            options: { "Content-Format": "application/json" },
          },
          5000,
        );
        if (String(res.code) !== "2.05") throw new Error(`CoAP ${res.code}: ${res.payload.toString()}`);
        return JSON.parse(res.payload.toString());
      } finally {
        closeAgent(agent);
      }
    }
  }
}
