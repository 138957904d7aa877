/** A raw MQTT client over a TCP socket using the project's codec: exact control of every packet. */
import { connect as netConnect, type Socket } from "node:net";
import {
  encode,
  MqttDecoder,
  type Packet,
  type ProtocolVersion,
} from "../../../src/protocols/mqtt/codec/index.js";

/** The packet type(s) whose `cmd` can be C (AckPacket covers four commands). */
export type PacketOf<C extends Packet["cmd"]> = Packet extends infer P
  ? P extends { cmd: infer K }
    ? C extends K
      ? P
      : never
    : never
  : never;

export class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  private readonly decoder = new MqttDecoder({ maxPacketSize: 1 << 20 });
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly version: ProtocolVersion,
  ) {
    this.decoder.version = version;
    socket.on("data", (chunk) => {
      this.decoder.push(chunk, (p) => this.packets.push(p));
      this.wake();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, version: ProtocolVersion = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect(port, "127.0.0.1", () => resolve(new RawClient(s, version)));
      s.once("error", reject);
    });
  }

  /** Opens a socket, sends CONNECT and waits for CONNACK. */
  static async connect(
    port: number,
    version: ProtocolVersion,
    clientId: string,
    opts: { clean?: boolean; keepalive?: number; sessionExpiry?: number } = {},
  ): Promise<{ client: RawClient; connack: PacketOf<"connack"> }> {
    const client = await RawClient.open(port, version);
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

  send(p: Packet): void {
    this.socket.write(encode(p, this.version));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first received packet of `cmd` (removing it), or rejects after `ms`. */
  waitFor<C extends Packet["cmd"]>(cmd: C, ms = 3000): Promise<PacketOf<C>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${cmd}`)), ms);
      const check = (): void => {
        const i = this.packets.findIndex((p) => p.cmd === cmd);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(this.packets.splice(i, 1)[0] as PacketOf<C>);
          return;
        }
        if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`closed while waiting for ${cmd}`));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Resolves when the server closes the socket; rejects after `ms`. */
  waitClose(ms = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout waiting for close")), ms);
      const check = (): void => {
        if (this.closed) {
          clearTimeout(timer);
          resolve();
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
