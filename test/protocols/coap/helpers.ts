/** Test clients for CoAP: a raw UDP endpoint with hand-built messages, and npm `coap` requests. */
import { createSocket, type Socket } from "node:dgram";
import coap from "coap";
import { AllowAllAuth } from "../../../src/core/auth.js";
import { nullLogger } from "../../../src/core/logger.js";
import { Router } from "../../../src/core/router.js";
import { CoapAdapter } from "../../../src/protocols/coap/adapter.js";
import { decodeMessage } from "../../../src/protocols/coap/codec/decode.js";
import type { CoapMessage } from "../../../src/protocols/coap/codec/message.js";
import type { CoapOptions } from "../../../src/protocols/coap/options.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import type { Store } from "../../../src/store/store.js";
import type { DatagramSender } from "../../../src/transports/udp.js";
import { startTestBroker, type TestBroker, type TestBrokerOptions } from "../../helpers/broker.js";

/** A UDP endpoint that records every datagram it receives. */
export class RawCoap {
  readonly socket: Socket;
  readonly received: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private constructor(
    readonly host: string,
    readonly port: number,
    family: "udp4" | "udp6",
  ) {
    this.socket = createSocket(family);
    this.socket.on("message", (d) => {
      this.received.push(d);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(port: number, host = "127.0.0.1"): Promise<RawCoap> {
    const r = new RawCoap(host, port, host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve) => r.socket.bind(0, host, resolve));
    return r;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer): void {
    this.socket.send(bytes, this.port, this.host);
  }

  /** The next datagram not yet taken, decoded (throws on a format error). */
  async next(timeoutMs = 3000): Promise<CoapMessage> {
    const raw = await this.nextRaw(timeoutMs);
    const r = decodeMessage(raw);
    if (!r.ok) throw new Error(`broker sent a malformed message: ${r.error}`);
    return r.message;
  }

  async nextRaw(timeoutMs = 3000): Promise<Buffer> {
    const until = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      const left = until - Date.now();
      if (left <= 0) throw new Error("no datagram in time");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received.shift()!;
  }

  /** Resolves true when nothing arrives within `ms`. */
  async silent(ms: number): Promise<boolean> {
    try {
      await this.nextRaw(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export type CoapResponse = coap.IncomingMessage;

/** One request with npm `coap`, bounded in time. */
export function coapRequest(
  params: coap.CoapRequestParams & { payload?: Buffer | string },
  timeoutMs = 10_000,
): Promise<CoapResponse> {
  return new Promise((resolve, reject) => {
    const { payload, ...rest } = params;
    const req = coap.request({ hostname: "127.0.0.1", ...rest });
    const timer = setTimeout(
      () => reject(new Error(`no response to ${rest.method ?? "GET"} ${rest.pathname}`)),
      timeoutMs,
    );
    req.on("response", (res: CoapResponse) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.on("error", (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A fresh agent per test: its own socket, no state shared with other tests. */
export function newAgent(family: "udp4" | "udp6" = "udp4"): coap.Agent {
  return new coap.Agent({ type: family });
}

export function closeAgent(agent: coap.Agent): void {
  agent.close();
}

export function codeOf(res: CoapResponse): string {
  return String(res.code);
}

import {
  encodeMessage as encode,
  sortOptions as sortOpts,
} from "../../../src/protocols/coap/codec/encode.js";
import {
  type CoapOption as Option,
  stringOption,
  uintOption,
} from "../../../src/protocols/coap/codec/message.js";

/** A hand-built request: `path` like "/ps/a/b?qos=1", extra options merged in number order. */
export function buildRequest(
  type: 0 | 1,
  method: number,
  mid: number,
  token: Buffer,
  path: string,
  extra: Option[] = [],
  payload?: Buffer,
): Buffer {
  const [p, q] = path.split("?");
  const options: Option[] = [];
  for (const seg of p!.split("/").slice(1)) options.push(stringOption(11, seg));
  if (q) for (const kv of q.split("&")) options.push(stringOption(15, kv));
  options.push(...extra);
  return encode(type, method, mid, token, sortOpts(options), payload);
}

export { uintOption };

/** Runs `fn` with a fresh broker and a raw CoAP socket to it, and closes both. */
export async function withRaw(
  fn: (b: TestBroker, c: RawCoap) => Promise<void>,
  opts: TestBrokerOptions = {},
): Promise<void> {
  const b = await startTestBroker(opts);
  const c = await RawCoap.open(b.coapPort);
  try {
    await fn(b, c);
  } finally {
    await c.close();
    await b.close();
  }
}

/** A CoAP adapter on a router of its own, with no socket (inProcessCoap). */
export interface InProcessCoap {
  router: Router;
  adapter: CoapAdapter;
  /** What the adapter sends through: records into `sent` and `ports`. */
  sender: DatagramSender;
  /** Every datagram the adapter sent, whole, in order, and the port each one went to. */
  sent: Buffer[];
  ports: number[];
  clearSent(): void;
  close(): Promise<void>;
}

/**
 * For tests that drive the adapter directly (adapter.handleDatagram) to see exactly what it sends
 * and when: multicast, commit order, timers, broker-wide budgets.
 */
export async function inProcessCoap(
  options: Partial<CoapOptions> = {},
  store: Store = new MemoryStore(),
): Promise<InProcessCoap> {
  const router = new Router({
    store,
    auth: new AllowAllAuth(),
    log: nullLogger,
    limits: { maxQueuedMessages: 100, maxQueuedBytes: 0 },
  });
  await router.start();
  const adapter = new CoapAdapter(router, options, nullLogger);
  const sent: Buffer[] = [];
  const ports: number[] = [];
  return {
    router,
    adapter,
    sent,
    ports,
    sender: {
      send(parts, port) {
        sent.push(Buffer.isBuffer(parts) ? parts : Buffer.concat(parts as readonly Buffer[]));
        ports.push(port);
      },
    },
    clearSent() {
      sent.length = 0;
      ports.length = 0;
    },
    async close() {
      adapter.close();
      await router.close();
    },
  };
}
