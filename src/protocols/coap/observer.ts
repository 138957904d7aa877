/** One observation (RFC 7641 §4.1): a client endpoint, a resource (topic) and the token. */
import type { Principal } from "../../core/auth.js";
import type { Message } from "../../core/message.js";
import { OBSERVE_MAX } from "./codec/constants.js";

export class Observer {
  /** The last Observe sequence number sent (24 bits, RFC 7641 §4.4). */
  seq: number;
  /** Notifications sent since the last confirmable one (RFC 7641 §4.5). */
  sinceCon = 0;
  lastConAt: number;
  active = true;
  /** The last notification, when it was larger than one block: later blocks are read from it. */
  notified: Message | undefined;

  constructor(
    readonly topic: string,
    public token: Buffer,
    /** Notifications are CON (`?qos=1`, or registered with a CON request) or NON. */
    public confirmable: boolean,
    /** Block size of the notifications (the client's Block2 preference, RFC 7959 §2.6). */
    public szx: number,
    readonly principal: Principal,
    now: number,
  ) {
    // Starting at a random point makes numbers of an old and a new registration unlikely to clash.
    this.seq = Math.floor(Math.random() * 0x10000);
    this.lastConAt = now;
  }

  nextSeq(): number {
    this.seq = this.seq >= OBSERVE_MAX ? 0 : this.seq + 1;
    return this.seq;
  }
}
