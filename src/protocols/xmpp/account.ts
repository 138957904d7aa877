/**
 * One user (bare JID) with bound resources. It is the user's router session connection: PubSub
 * subscriptions belong to the bare JID (XEP-0060 §6.1) and live in a router session named
 * `xmpp:<bare jid>`, persistent for registered users so that subscriptions and QoS>0 items survive
 * while the user is offline (and across restarts, in the store). Notifications fan out to the
 * available resources.
 */
import type { Message, QoS } from "../../core/message.js";
import type { ConnectionInfo, Session, SessionConnection } from "../../core/session.js";
import type { XmppHub } from "./hub.js";
import type { BoundResource } from "./resource.js";
import type { Roster } from "./roster.js";

export class Account implements SessionConnection {
  readonly resources = new Map<string, BoundResource>();
  session: Session | undefined;
  info: ConnectionInfo;

  constructor(
    readonly hub: XmppHub,
    readonly bare: string,
    readonly roster: Roster,
    readonly anonymous: boolean,
    info: ConnectionInfo,
  ) {
    this.info = info;
  }

  get clientId(): string {
    return `xmpp:${this.bare}`;
  }

  /** Available resources (sent initial presence) with a non-negative priority (RFC 6121 §8.5.2.1). */
  *availableResources(): Iterable<BoundResource> {
    for (const r of this.resources.values()) if (r.available && r.priority >= 0) yield r;
  }

  deliver(message: Message, _qos: QoS, _retain: boolean): void {
    this.hub.pubsub.notify(this, message);
  }

  drain(): void {
    const s = this.session;
    if (!s) return;
    const store = this.hub.router.store;
    for (let d = s.shiftQueued(); d; d = s.shiftQueued()) {
      if (s.persistent) store.deleteDelivery(s.clientId, d.seq);
      this.hub.pubsub.notify(this, d.message, true);
    }
  }

  close(): void {
    for (const r of [...this.resources.values()]) r.conn?.close("system-shutdown");
  }
}
