/**
 * A raw MQTT peer over node:net for malformed-input and abuse tests: send any bytes, collect what the
 * broker answers (decoded with the project's MqttDecoder), wait for the broker to close the socket.
 */
import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import {
  encode,
  MqttDecoder,
  type Packet,
  type ProtocolVersion,
} from "../../src/protocols/mqtt/codec/index.js";
import { startTestBroker, type TestBroker, type TestBrokerOptions } from "./broker.js";
import { collect, connect, endClient } from "./mqtt-client.js";

/** The packet type(s) whose `cmd` can be C (AckPacket covers four commands). */
export type PacketOf<C extends Packet["cmd"]> = Packet extends infer P
  ? P extends { cmd: infer K }
    ? C extends K
      ? P
      : never
    : never
  : never;

export class RawMqtt {
  readonly packets: Packet[] = [];
  /** Set when the broker's bytes did not decode (a broker bug: tests assert it stays undefined). */
  decodeError: Error | undefined;
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly decoder = new MqttDecoder({ maxPacketSize: 256 * 1024 * 1024 });
  private waiters = new Set<() => void>();

  private constructor(
    readonly socket: Socket,
    readonly version: ProtocolVersion,
  ) {
    // The decoder is the server-side parser, but it decodes every packet type for a given version.
    this.decoder.version = version;
    socket.on("data", (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (p) => this.packets.push(p));
      } catch (err) {
        this.decodeError = err as Error;
      }
      this.wake();
    });
    socket.on("error", () => {}); // ECONNRESET after the broker's close is expected here
    this.whenClosed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number, version: ProtocolVersion = 4): Promise<RawMqtt> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host: "127.0.0.1" }, () => {
        s.off("error", reject);
        resolve(new RawMqtt(s, version));
      });
      s.once("error", reject);
    });
  }

  /** Opens a socket and completes CONNECT/CONNACK (success expected). */
  static async session(
    port: number,
    version: ProtocolVersion,
    clientId: string,
    keepalive = 0,
  ): Promise<RawMqtt> {
    const c = await RawMqtt.open(port, version);
    c.send(
      encode(
        { cmd: "connect", protocolName: "MQTT", protocolVersion: version, clean: true, keepalive, clientId },
        version,
      ),
    );
    const ack = await c.next("connack");
    assert.equal(ack.cmd === "connack" && ack.reasonCode, 0, "CONNACK success");
    return c;
  }

  /** Opens a socket, sends CONNECT and waits for CONNACK (whatever its code). */
  static async connect(
    port: number,
    version: ProtocolVersion,
    clientId: string,
    opts: { clean?: boolean; keepalive?: number; sessionExpiry?: number } = {},
  ): Promise<{ client: RawMqtt; connack: PacketOf<"connack"> }> {
    const client = await RawMqtt.open(port, version);
    client.send({
      cmd: "connect",
      protocolName: "MQTT",
      protocolVersion: version,
      clean: opts.clean ?? true,
      keepalive: opts.keepalive ?? 0,
      clientId,
      properties:
        version === 5 && opts.sessionExpiry !== undefined
          ? { sessionExpiryInterval: opts.sessionExpiry }
          : undefined,
    });
    const connack = await client.waitFor("connack");
    return { client, connack };
  }

  /** Sends raw bytes as they are, and packets encoded in this connection's version. */
  send(...items: Array<Buffer | Packet>): void {
    for (const item of items) {
      if (this.socket.destroyed) return;
      this.socket.write(Buffer.isBuffer(item) ? item : encode(item, this.version));
    }
  }

  /** Like next(), typed by the command. */
  async waitFor<C extends Packet["cmd"]>(cmd: C, ms = 3000): Promise<PacketOf<C>> {
    return (await this.next(cmd, ms)) as PacketOf<C>;
  }

  /** The first received packet with `cmd` not consumed yet (removed from `packets`). */
  async next(cmd: Packet["cmd"], ms = 3000): Promise<Packet> {
    await this.until(() => this.packets.some((p) => p.cmd === cmd) || this.closed, ms, `${cmd}`);
    const i = this.packets.findIndex((p) => p.cmd === cmd);
    if (i < 0) throw new Error(`closed before ${cmd}; got ${this.packets.map((p) => p.cmd).join(",")}`);
    return this.packets.splice(i, 1)[0]!;
  }

  /** Resolves when the broker closed the connection; rejects after `ms`. */
  waitClose(ms = 3000): Promise<void> {
    return this.until(() => this.closed, ms, "close");
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timeout waiting for ${what}; got ${this.packets.map((p) => p.cmd).join(",")}`));
      }, ms);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** What the broker must do with a bad input: close silently, or answer CONNACK / DISCONNECT first. */
export type Expected = { close: true } | { connack: number } | { disconnect: number };

/** Waits for the close and checks that exactly the expected packet (or nothing) came before it. */
export async function expectClosed(c: RawMqtt, expected: Expected, ms = 3000): Promise<void> {
  await c.waitClose(ms);
  assert.equal(c.decodeError, undefined, "the broker's answer decodes");
  const got = c.packets.map((p) => ({
    cmd: p.cmd,
    reasonCode: "reasonCode" in p ? (p.reasonCode ?? 0) : undefined,
  }));
  if ("close" in expected) assert.deepEqual(got, [], "closed without any packet");
  else if ("connack" in expected) assert.deepEqual(got, [{ cmd: "connack", reasonCode: expected.connack }]);
  else assert.deepEqual(got, [{ cmd: "disconnect", reasonCode: expected.disconnect }]);
}

/** Polls `cond` (for state that has no event, e.g. the router's session map) until true or `ms` pass. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let goodClients = 0;

/** A well-behaved MQTT.js client pair on the same broker still publishes and receives. */
export async function assertStillServing(b: TestBroker, protocolVersion: 4 | 5 = 4): Promise<void> {
  const n = ++goodClients;
  const sub = await connect(b.mqttUrl, { protocolVersion, clientId: `good-sub-${n}` });
  try {
    const got = collect(sub);
    await sub.subscribeAsync(`good/${n}`, { qos: 1 });
    const pub = await connect(b.mqttUrl, { protocolVersion, clientId: `good-pub-${n}` });
    try {
      await pub.publishAsync(`good/${n}`, "still here", { qos: 1 });
      const [m] = await got.next(1);
      assert.equal(m!.payload.toString(), "still here");
    } finally {
      await endClient(pub);
    }
  } finally {
    await endClient(sub);
  }
}

export interface MalformedCase {
  /** The rule, e.g. "[MQTT-3.3.1-4] PUBLISH with QoS 3". */
  name: string;
  version: ProtocolVersion;
  /** Complete CONNECT/CONNACK first (default true). */
  connected?: boolean;
  bytes: Buffer[];
  expected: Expected;
  /** Broker options (small limits, a custom Auth). */
  broker?: TestBrokerOptions;
}

/**
 * Runs one bad input against a fresh broker: sends the bytes, checks the broker's answer and the
 * close, then checks that a well-behaved client on the same broker still publishes and receives.
 */
export async function runMalformedCase(c: MalformedCase): Promise<void> {
  const b = await startTestBroker(c.broker);
  let raw: RawMqtt | undefined;
  try {
    raw =
      c.connected === false
        ? await RawMqtt.open(b.mqttPort, c.version)
        : await RawMqtt.session(b.mqttPort, c.version, "bad-client");
    raw.send(...c.bytes);
    await expectClosed(raw, c.expected);
    assert.equal(b.handle.router.sessions.has("bad-client"), false, "the bad client's session is gone");
    await assertStillServing(b, c.version === 5 ? 5 : 4);
  } finally {
    raw?.destroy();
    await b.close();
  }
}
