/** A UDP proxy that drops every Nth datagram in each direction, for lossy-link tests. */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export class LossyProxy {
  dropped = 0;
  private count = 0;
  private client: RemoteInfo | undefined;
  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    private readonly every: number,
  ) {}

  static async start(targetPort: number, every: number): Promise<LossyProxy> {
    const front = createSocket("udp4");
    const back = createSocket("udp4");
    const p = new LossyProxy(front, back, every);
    front.on("message", (d, from) => {
      p.client = from;
      if (p.drop()) return;
      back.send(d, targetPort, "127.0.0.1");
    });
    back.on("message", (d) => {
      if (p.drop() || p.client === undefined) return;
      front.send(d, p.client.port, p.client.address);
    });
    await new Promise<void>((r) => front.bind(0, "127.0.0.1", r));
    await new Promise<void>((r) => back.bind(0, "127.0.0.1", r));
    return p;
  }

  get port(): number {
    return this.front.address().port;
  }

  private drop(): boolean {
    this.count++;
    if (this.count % this.every !== 0) return false;
    this.dropped++;
    return true;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.front.close(() => r()));
    await new Promise<void>((r) => this.back.close(() => r()));
  }
}
