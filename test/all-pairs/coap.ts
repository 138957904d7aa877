/**
 * CoAP with npm `coap`: PUT `/ps/a/b/c` publishes, GET with Observe subscribes (docs/coap.md). CoAP has
 * no wildcards. The content type is the Content-Format option; large payloads go block-wise (a large
 * notification's first block comes with Observe, npm coap GETs the rest; see subscribe()).
 */
import coap from "coap";
import { closeAgent, coapRequest, newAgent } from "../protocols/coap/helpers.js";
import {
  type GridClient,
  Inbox,
  type InMessage,
  type OutMessage,
  type Subscription,
  withTimeout,
} from "./types.js";

export async function coapClient(port: number): Promise<GridClient> {
  const streams = new Set<coap.ObserveReadStream>();
  return {
    name: "CoAP",
    wildcards: false,
    contentType: true,
    props: false,
    correlationId: false,
    replyTo: false,
    // Max-Age on notifications; a PUT has no expiry.
    expiry: "deliver",
    timestamp: false,
    // A CON PUT is QoS 1, `?qos=0` makes it QoS 0; a notification's CON/NON is the observation's.
    persistent: "publish",
    async subscribe(topic: string): Promise<Subscription> {
      const inbox = new Inbox<InMessage>();
      // An agent per observation: npm coap's agent closes its socket once it has nothing pending.
      const own = newAgent();
      const req = coap.request({
        hostname: "127.0.0.1",
        port,
        pathname: `/ps/${topic}`,
        observe: true,
        agent: own,
      });
      const stream = await withTimeout(
        new Promise<coap.ObserveReadStream>((resolve, reject) => {
          req.on("response", (res: coap.ObserveReadStream) => resolve(res));
          req.on("error", reject);
          req.end();
        }),
        5000,
        "CoAP observe",
      );
      if (String(stream.code) !== "2.05") throw new Error(`observe answered ${stream.code}`);
      // npm coap 1.5 fetches the rest of a block-wise notification itself (GET Block2, RFC 7959
      // §2.6) and hands the reassembled body to the stream, but the stream's reordering filter
      // (RFC 7641 §3.4; observe_read_stream.js `append`) reads the missing Observe option of the
      // last block's answer as sequence number 0 and drops the body as stale. Turning the filter off
      // (a field of the typed ObserveReadStream) lets it through; the library still does all the
      // wire work. Over loopback, with one notification awaited at a time, nothing is reordered.
      stream._disableFiltering = true;
      streams.add(stream);
      stream.on("data", (d: Buffer) => {
        // The registration answer is the current value: empty on a fresh topic.
        if (d.length === 0) return;
        const cf = stream.headers["Content-Format"];
        const maxAge = stream.headers["Max-Age"];
        inbox.push({
          topic,
          payload: d,
          contentType: typeof cf === "string" ? cf : undefined,
          props: {},
          ttlMs: typeof maxAge === "number" ? maxAge * 1000 : undefined,
        });
      });
      return {
        next: (ms) => inbox.next(ms),
        async close() {
          streams.delete(stream);
          stream.close();
          closeAgent(own);
        },
      };
    },
    async publish(topic: string, m: OutMessage): Promise<void> {
      const agent = newAgent();
      const options: Record<string, string | Buffer> = {};
      if (m.contentType) options["Content-Format"] = m.contentType;
      if (m.payload.length > 1024) options.Block1 = Buffer.from([6]);
      const res = await coapRequest(
        {
          agent,
          port,
          method: "PUT",
          pathname: `/ps/${topic}`,
          query: m.persistent === false ? "qos=0" : undefined,
          payload: m.payload,
          options,
        },
        10_000,
      );
      closeAgent(agent);
      if (String(res.code) !== "2.04") throw new Error(`PUT answered ${res.code}`);
    },
    async close() {
      for (const s of streams) s.close();
    },
  };
}
