/**
 * XEP-0160 offline messages on the core's named queues (one durable queue per user, stored by
 * the Store, so they survive a restart): the stanza's XML with a XEP-0203 <delay/> stamp is the
 * message payload. Delivered, oldest first, when the user next sends initial presence.
 */

import { createMessage } from "../../core/message.js";
import { AckScope } from "../../core/queues/ack-scope.js";
import type { NamedQueue } from "../../core/queues/named-queue.js";
import type { XmppHub } from "./hub.js";
import { NS } from "./namespaces.js";
import type { BoundResource } from "./resource.js";
import { type Element, el } from "./xml/element.js";
import { toXml } from "./xml/serialize.js";

/** Queue names; visible to AMQP/STOMP as `$xmpp/offline/<bare jid>` (docs/xmpp.md). */
export function offlineQueueName(bare: string): string {
  return `$xmpp/offline/${bare}`;
}

export class OfflineStore {
  private readonly scope = new AckScope();

  constructor(private readonly hub: XmppHub) {}

  private queue(bare: string): NamedQueue {
    return this.hub.router.queues.declare(offlineQueueName(bare), {
      durable: true,
      autoDelete: false,
      arguments: { maxLength: this.hub.options.maxOfflineMessages, overflow: "drop-head" },
    });
  }

  /** Keeps a message for `bare`, stamped with when it arrived (XEP-0203). */
  store(bare: string, m: Element): void {
    if (this.hub.options.maxOfflineMessages === 0) {
      this.hub.bounce(m, "service-unavailable");
      return;
    }
    const stamped = el(m.name, m.ns, m.attrs, ...m.children);
    stamped.add(
      el(
        "delay",
        NS.delay,
        { from: this.hub.options.domain, stamp: new Date().toISOString() },
        "Offline Storage",
      ),
    );
    this.storeXml(bare, toXml(stamped));
  }

  storeXml(bare: string, xml: string): void {
    const msg = createMessage(offlineQueueName(bare), Buffer.from(xml, "utf8"), 1, false, {
      contentType: "application/xml",
    });
    this.queue(bare).publish(msg, { persistent: true });
  }

  /** Sends every stored message to `r` and forgets them (XEP-0160 §3: flood on initial presence). */
  flush(r: BoundResource): void {
    const q = this.hub.router.queues.find(offlineQueueName(r.account.bare));
    if (!q) return;
    for (let d = q.get(this.scope, { noAck: true }); d; d = q.get(this.scope, { noAck: true })) {
      r.send(d.message.payload.toString("utf8"));
    }
  }

  /**
   * A resource ended with stanzas it never acknowledged (XEP-0198 §4): messages go to another
   * available resource of the user, or to storage; other stanzas are dropped.
   */
  rerouteUnacked(r: BoundResource, xmls: string[]): void {
    const pubsubFrom = `from='${this.hub.pubsubDomain}'`;
    for (const xml of xmls) {
      if (!xml.startsWith("<message") || xml.includes(pubsubFrom)) continue;
      let sent = false;
      for (const other of r.account.availableResources()) {
        if (other === r) continue;
        other.send(xml);
        sent = true;
      }
      if (!sent && !r.account.anonymous) this.storeXml(r.account.bare, xml);
    }
  }
}
