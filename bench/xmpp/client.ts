/**
 * A minimal XMPP load client for the benchmark: hand-built stanzas over plain TCP, SASL PLAIN and
 * resource binding done once, then counts of a marker (e.g. "</message>") in what it receives —
 * no XML parsing on the load generator, so it measures the server, not the client.
 */
import { connect, type Socket } from "node:net";

const OPEN = (domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;

export class BenchClient {
  private text = "";
  private counting: Buffer | undefined;
  private carry = Buffer.alloc(0);
  count = 0;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", () => {});
  }

  static async login(
    port: number,
    domain: string,
    user: string,
    password: string,
    resource: string,
    presence = true,
  ): Promise<BenchClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    const c = new BenchClient(socket);
    socket.write(OPEN(domain));
    await c.until(/<\/stream:features>/);
    const cred = Buffer.from(`\0${user}\0${password}`).toString("base64");
    c.text = "";
    socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${cred}</auth>`);
    await c.until(/<success|<failure/);
    if (/<failure/.test(c.text)) throw new Error(`login of ${user} failed: ${c.text}`);
    c.text = "";
    socket.write(OPEN(domain));
    await c.until(/<\/stream:features>/);
    c.text = "";
    socket.write(
      `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
    );
    await c.until(/<\/iq>/);
    c.text = "";
    if (!presence) return c;
    socket.write("<presence/>");
    // the server echoes the presence to the user's own available resources
    await c.until(/<presence/);
    c.text = "";
    return c;
  }

  /** Waits until the received text matches (login phase only). */
  async until(re: RegExp, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.text)) {
      if (Date.now() > end) throw new Error(`timeout waiting for ${re}: ${this.text.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** From now on, count occurrences of `marker` (instead of keeping the text). */
  countMarker(marker: string): void {
    this.counting = Buffer.from(marker);
    this.count = 0;
    this.carry = Buffer.alloc(0);
    this.text = "";
  }

  private onData(d: Buffer): void {
    const m = this.counting;
    if (!m) {
      this.text += d.toString("utf8");
      return;
    }
    // a marker split between two reads: keep the last marker.length-1 bytes
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, d]) : d;
    let i = buf.indexOf(m);
    let end = 0;
    while (i >= 0) {
      this.count++;
      end = i + m.length;
      i = buf.indexOf(m, end);
    }
    const keepFrom = Math.max(end, buf.length - (m.length - 1));
    this.carry = Buffer.from(buf.subarray(keepFrom));
  }

  /** Writes, waiting for the socket to drain when its buffer is full. */
  async write(s: string): Promise<void> {
    if (!this.socket.write(s)) await new Promise((r) => this.socket.once("drain", r));
  }

  close(): void {
    this.socket.destroy();
  }
}
