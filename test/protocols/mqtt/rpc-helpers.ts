/** MQTT RPC helpers for tests (docs/rpc.md "MQTT"): an MQTT 5 callee and callers of both versions. */
import type { IClientPublishOptions, MqttClient } from "mqtt";
import { connect } from "../../helpers/mqtt-client.js";

export interface Answer {
  payload: Buffer | string;
  contentType?: string;
  /** An error URI: sent as the user property `error`. */
  error?: string;
}

/**
 * An MQTT 5 client that registers `procedure` by subscribing to `$rpc/<procedure>` (or
 * `$share/<group>/$rpc/<procedure>`) and answers each invocation on its Response Topic.
 * `handler` returning undefined sends nothing.
 */
export async function mqttCallee(
  url: string,
  procedure: string,
  handler: (payload: Buffer, contentType: string | undefined) => Answer | undefined,
  group?: string,
): Promise<{ client: MqttClient; invocations: number }> {
  const client = await connect(url, { protocolVersion: 5 });
  const state = { client, invocations: 0 };
  client.on("message", (topic, payload, packet) => {
    if (topic !== `$rpc/${procedure}`) return;
    state.invocations++;
    const props = packet.properties ?? {};
    const a = handler(payload, props.contentType);
    if (a === undefined || props.responseTopic === undefined) return;
    const properties: NonNullable<IClientPublishOptions["properties"]> = {
      correlationData: props.correlationData,
    };
    if (a.contentType) properties.contentType = a.contentType;
    if (a.error) properties.userProperties = { error: a.error };
    client.publish(props.responseTopic, a.payload, { qos: 1, properties });
  });
  const filter = group ? `$share/${group}/$rpc/${procedure}` : `$rpc/${procedure}`;
  const granted = await client.subscribeAsync(filter, { qos: 1 });
  if (granted[0]!.qos > 2) throw new Error(`register refused: ${granted[0]!.qos}`);
  return state;
}

export interface Reply {
  topic: string;
  payload: Buffer;
  error?: string;
  contentType?: string;
}

let seq = 0;

/** An MQTT 5 caller: PUBLISH to `$rpc/<procedure>` with a Response Topic and Correlation Data. */
export async function call5(
  client: MqttClient,
  procedure: string,
  body: Buffer | string,
  contentType?: string,
  ms = 8000,
): Promise<Reply> {
  const replyTopic = `replies/${client.options.clientId}`;
  await client.subscribeAsync(replyTopic, { qos: 1 });
  const cd = Buffer.from(`c${++seq}`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no answer to ${procedure}`));
    }, ms);
    function onMessage(
      topic: string,
      payload: Buffer,
      packet: { properties?: Record<string, unknown> },
    ): void {
      const p = packet.properties ?? {};
      if (topic !== replyTopic || !cd.equals(p.correlationData as Buffer)) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      const up = p.userProperties as Record<string, string | string[]> | undefined;
      const e = up?.error;
      resolve({
        topic,
        payload,
        error: Array.isArray(e) ? e[0] : e,
        contentType: p.contentType as string | undefined,
      });
    }
    client.on("message", onMessage);
    const properties: NonNullable<IClientPublishOptions["properties"]> = {
      responseTopic: replyTopic,
      correlationData: cd,
    };
    if (contentType) properties.contentType = contentType;
    client.publish(`$rpc/${procedure}`, body, { qos: 1, properties });
  });
}

/**
 * An MQTT 3.1.1 caller: PUBLISH to `$rpc/<procedure>/<reply topic>`; a result arrives on the reply
 * topic, an error on `<reply topic>/error` as JSON.
 */
export async function call311(
  client: MqttClient,
  procedure: string,
  body: Buffer | string,
  ms = 8000,
): Promise<{
  result?: Buffer;
  error?: { error: string; args?: unknown[]; kwargs?: Record<string, unknown> };
}> {
  const replyTopic = `replies311/${client.options.clientId}/${++seq}`;
  await client.subscribeAsync(`${replyTopic}/#`, { qos: 1 });
  await client.subscribeAsync(replyTopic, { qos: 1 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no answer to ${procedure}`));
    }, ms);
    function onMessage(topic: string, payload: Buffer): void {
      if (topic !== replyTopic && topic !== `${replyTopic}/error`) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve(topic === replyTopic ? { result: payload } : { error: JSON.parse(payload.toString()) });
    }
    client.on("message", onMessage);
    client.publish(`$rpc/${procedure}/${replyTopic}`, body, { qos: 1 });
  });
}
