/**
 * One request and its answer (RFC 7252 §2.2, §5.2): piggybacked in the ACK of a CON request, or —
 * when the answer is not ready within separateResponseAfterMs — an empty ACK first and the
 * response later as a CON of its own; a NON request gets a NON response. Multicast requests are
 * answered after a random leisure and never with an error (§8.2). The No-Response option
 * (RFC 7967) suppresses the classes the client asked not to hear.
 */
import { ACK, CON, codeClass, NON } from "./codec/constants.js";
import { encodeEmpty, encodeMessage, sortOptions } from "./codec/encode.js";
import { type CoapOption, findOption, readUint } from "./codec/message.js";
import type { DedupEntry } from "./dedup.js";
import type { Peer } from "./peer.js";
import type { Request } from "./request.js";

export interface ExchangeHost {
  readonly separateResponseAfterMs: number;
  readonly leisureMs: number;
}

export class Exchange {
  private emptyAcked = false;
  private answered = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly peer: Peer,
    readonly req: Request,
    /** Size of the request datagram (for the amplification limit). */
    readonly requestSize: number,
    readonly multicast: boolean,
    /** Where the reply is kept for duplicates; undefined for a request that is not recorded (adapter.ts). */
    private readonly entry: DedupEntry | undefined,
    private readonly host: ExchangeHost,
  ) {}

  get done(): boolean {
    return this.answered;
  }

  /** The answer will not be immediate: acknowledge a CON request after the delay (§5.2.2). */
  deferred(): void {
    if (this.req.msg.type !== CON || this.answered || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.answered) return;
      this.emptyAcked = true;
      const ack = encodeEmpty(ACK, this.req.msg.mid);
      if (this.entry !== undefined) this.entry.reply = ack; // a duplicate gets the empty ACK again
      this.peer.send(ack);
    }, this.host.separateResponseAfterMs);
  }

  respond(code: number, options: CoapOption[], payload?: Buffer): void {
    if (this.answered) return;
    this.answered = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const msg = this.req.msg;
    if (this.suppressed(code)) {
      // Nothing to send; a CON still needs its ACK (RFC 7967 §2.1).
      if (msg.type === CON && !this.emptyAcked) {
        const ack = encodeEmpty(ACK, msg.mid);
        if (this.entry !== undefined) this.entry.reply = ack;
        this.peer.send(ack);
      }
      return;
    }
    sortOptions(options);
    if (msg.type === CON && !this.emptyAcked) {
      const bytes = encodeMessage(ACK, code, msg.mid, msg.token, options, payload);
      if (this.entry !== undefined) this.entry.reply = bytes;
      this.peer.send(bytes);
      return;
    }
    if (msg.type === CON) {
      // Separate response (§5.2.2): confirmable, retransmitted until the client acknowledges it.
      const bytes = encodeMessage(CON, code, 0, msg.token, options, payload);
      this.peer.outgoing.send([bytes], undefined);
      return;
    }
    const bytes = encodeMessage(NON, code, this.peer.nextMid(), msg.token, options, payload);
    if (this.multicast) {
      // §8.2: answer a multicast request after a random time within the leisure.
      setTimeout(() => this.peer.send(bytes), Math.random() * this.host.leisureMs).unref();
      return;
    }
    if (this.entry !== undefined) this.entry.reply = bytes;
    this.peer.send(bytes);
  }

  private suppressed(code: number): boolean {
    const cls = codeClass(code);
    // §8.2 / RFC 7390: no error responses to multicast requests.
    if (this.multicast && cls >= 4) return true;
    const nr = findOption(this.req.msg, NO_RESPONSE);
    if (nr === undefined) return false;
    const v = readUint(nr);
    return (cls === 2 && (v & 2) !== 0) || (cls === 4 && (v & 8) !== 0) || (cls === 5 && (v & 16) !== 0);
  }
}

const NO_RESPONSE = 258;
