/**
 * Real STOMP clients for tests: @stomp/stompjs over WebSocket (the `ws` package) or over TCP (a
 * socket shaped like a WebSocket, as @stomp/tcp-wrapper does), and stompit over TCP.
 */
import { connect as netConnect, type Socket } from "node:net";
import { Client, type IFrame, type IMessage, type IStompSocket, type StompConfig } from "@stomp/stompjs";
import stompit from "stompit";
import WebSocket from "ws";

/** net.Socket seen through the WebSocket-like interface stompjs drives. */
class TcpStompSocket implements IStompSocket {
  url: string;
  onclose: ((ev?: unknown) => unknown) | undefined | null;
  onerror: ((ev: unknown) => unknown) | undefined | null;
  onmessage: ((ev: unknown) => unknown) | undefined | null;
  onopen: ((ev?: unknown) => unknown) | undefined | null;
  binaryType = "arraybuffer";
  readyState = 0;
  private readonly socket: Socket;

  constructor(port: number) {
    this.url = `tcp://127.0.0.1:${port}`;
    this.socket = netConnect(port, "127.0.0.1", () => {
      this.readyState = 1;
      this.onopen?.();
    });
    this.socket.on("data", (b: Buffer) => {
      this.onmessage?.({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) });
    });
    this.socket.on("error", (err) => this.onerror?.(err));
    this.socket.on("close", () => {
      this.readyState = 3;
      this.onclose?.({ code: 1000, reason: "" });
    });
  }

  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (typeof data === "string") this.socket.write(data);
    else if (ArrayBuffer.isView(data))
      this.socket.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else this.socket.write(Buffer.from(data as ArrayBuffer));
  }

  close(): void {
    this.readyState = 2;
    this.socket.end();
  }

  terminate(): void {
    this.socket.destroy();
  }
}

export type Transport = { ws: string } | { tcp: number };

/** A connected stompjs Client (no reconnect; heart-beats off unless asked). */
export async function stompjs(transport: Transport, config: Partial<StompConfig> = {}): Promise<Client> {
  const client = new Client({
    webSocketFactory: () =>
      "ws" in transport
        ? (new WebSocket(transport.ws, ["v12.stomp", "v11.stomp", "v10.stomp"]) as unknown as IStompSocket)
        : new TcpStompSocket(transport.tcp),
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: () => {},
    ...config,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stompjs connect timeout")), 5000);
    client.onConnect = () => {
      clearTimeout(timer);
      resolve();
    };
    client.onStompError = (f: IFrame) => {
      clearTimeout(timer);
      reject(new Error(`ERROR ${f.headers.message}: ${f.body}`));
    };
    client.onWebSocketError = (e: unknown) => {
      clearTimeout(timer);
      reject(new Error(`socket error ${String(e)}`));
    };
    client.activate();
  });
  return client;
}

/** Messages of one stompjs subscription, with a bounded wait for the first n. */
export function inbox(): {
  messages: IMessage[];
  onMessage: (m: IMessage) => void;
  next: (n: number, ms?: number) => Promise<IMessage[]>;
} {
  const messages: IMessage[] = [];
  let wake: (() => void) | undefined;
  return {
    messages,
    onMessage: (m) => {
      messages.push(m);
      wake?.();
    },
    async next(n, ms = 5000) {
      const until = Date.now() + ms;
      while (messages.length < n) {
        if (Date.now() > until) throw new Error(`${messages.length} of ${n} messages`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
      return messages.slice(0, n);
    },
  };
}

/** Publishes and waits for the broker's RECEIPT. */
export async function sendWithReceipt(
  client: Client,
  destination: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<void> {
  const receipt = `r-${Math.random().toString(36).slice(2)}`;
  const got = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()));
  if (typeof body === "string") client.publish({ destination, body, headers: { ...headers, receipt } });
  else client.publish({ destination, binaryBody: body, headers: { ...headers, receipt } });
  await withTimeout(got, 5000, `receipt for ${destination}`);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

// ---- stompit ---------------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: stompit is untyped
export type StompitClient = any;

export function stompitConnect(
  port: number,
  connectHeaders: Record<string, string> = {},
): Promise<StompitClient> {
  return withTimeout(
    new Promise((resolve, reject) => {
      stompit.connect(
        { host: "127.0.0.1", port, connectHeaders: { host: "/", ...connectHeaders } },
        (err: Error | null, client: StompitClient) => {
          if (err) reject(err);
          else resolve(client);
        },
      );
    }),
    5000,
    "stompit connect",
  );
}

/** Sends one message with stompit, with a content-length (stompit adds none: a NUL would end the body). */
export function stompitSend(
  client: StompitClient,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  const frame = client.send({ "content-length": Buffer.byteLength(body), ...headers });
  frame.write(body);
  frame.end();
}

/** Reads a stompit message body. */
export function stompitBody(message: StompitClient): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on("data", (c: Buffer) => chunks.push(c));
    message.on("end", () => resolve(Buffer.concat(chunks)));
    message.on("error", reject);
  });
}
