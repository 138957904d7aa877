/** Test helpers for XMPP: @xmpp/client sessions and a raw socket that speaks hand-written XML. */
import { connect, type Socket } from "node:net";
import { client, xml } from "@xmpp/client";
import WebSocket from "ws";

// @xmpp/websocket uses the global WebSocket, which Node 20 only has behind a flag.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export { xml };

export interface XmppTestClient {
  // biome-ignore lint/suspicious/noExplicitAny: @xmpp/client has no types
  xmpp: any;
  jid: string;
  /** Stanzas received, in order (as ltx elements). */
  received: XmlElement[];
  /** Resolves with the first received stanza (past or future) matching `pred`. */
  waitFor(pred: (s: XmlElement) => boolean, timeoutMs?: number): Promise<XmlElement>;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: ltx elements are untyped
export type XmlElement = any;

export interface ConnectOptions {
  username?: string;
  password?: string;
  resource?: string;
  ws?: boolean;
  /** "PLAIN" (default), "SCRAM-SHA-1" or "ANONYMOUS". */
  mechanism?: string;
  /** Send initial presence after login (default true). */
  presence?: boolean;
}

export async function connectClient(
  ports: { xmppPort: number; xmppWsUrl: string },
  opts: ConnectOptions = {},
): Promise<XmppTestClient> {
  const username = opts.username ?? "alice";
  const password = opts.password ?? "secret";
  const mechanism = opts.mechanism ?? "PLAIN";
  const xmpp = client({
    service: opts.ws ? ports.xmppWsUrl : `xmpp://127.0.0.1:${ports.xmppPort}`,
    domain: "localhost",
    resource: opts.resource,
    credentials: async (auth: (c: object, m: string) => Promise<void>) => {
      await auth(mechanism === "ANONYMOUS" ? {} : { username, password }, mechanism);
    },
  });
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  const received: XmlElement[] = [];
  const waiters: Array<{ pred: (s: XmlElement) => boolean; resolve: (s: XmlElement) => void }> = [];
  xmpp.on("stanza", (s: XmlElement) => {
    received.push(s);
    for (const w of [...waiters]) {
      if (w.pred(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  });
  const address = await xmpp.start();
  if (opts.presence !== false) await xmpp.send(xml("presence"));
  return {
    xmpp,
    jid: address.toString(),
    received,
    waitFor(pred, timeoutMs = 5000) {
      const found = received.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error("no matching stanza in time"));
          }
        }, timeoutMs).unref();
      });
    },
    async stop() {
      await xmpp.stop().catch(() => {});
    },
  };
}

/** A raw TCP connection for hand-made XML: send text, wait for text matching a pattern. */
export class RawXmpp {
  private text = "";
  closed = false;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.text += d.toString("utf8");
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawXmpp> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawXmpp(s)));
      s.once("error", reject);
    });
  }

  send(s: string | Buffer): void {
    this.socket.write(s);
  }

  /** Forgets what was received so far (so waitFor only sees what comes next). */
  clear(): void {
    this.text = "";
  }

  get output(): string {
    return this.text;
  }

  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text.match(pattern);
      if (m) return m;
      if (Date.now() > until) throw new Error(`no ${pattern} in: ${this.text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > until) throw new Error("socket not closed");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Opens a stream and, with a user, authenticates with PLAIN and binds `resource`. */
  async login(user?: string, resource = "raw"): Promise<void> {
    this.send(OPEN);
    await this.waitFor(/<\/stream:features>/);
    if (!user) return;
    const cred = Buffer.from(`\0${user}\0secret`).toString("base64");
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${cred}</auth>`);
    await this.waitFor(/<success/);
    this.text = "";
    this.send(OPEN);
    await this.waitFor(/<\/stream:features>/);
    this.send(
      `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await this.waitFor(/<jid>/);
  }

  close(): void {
    this.socket.destroy();
  }

  /** The TCP socket, for a test that upgrades it to TLS after <proceed/>. */
  get socketForTest(): Socket {
    this.socket.removeAllListeners("data");
    return this.socket;
  }
}

export const OPEN =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
