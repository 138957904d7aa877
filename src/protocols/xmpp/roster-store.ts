/**
 * Rosters in the store, on the core's durable named queues like offline messages (no table of our
 * own): each registered user's roster is the one message of the queue `$xmpp/roster/<bare jid>`
 * (max length 1, so saving replaces it), as JSON. Read once per broker lifetime, when first needed.
 */
import { createMessage } from "../../core/message.js";
import { AckScope } from "../../core/queues/ack-scope.js";
import type { Router } from "../../core/router.js";
import { NS } from "./namespaces.js";
import { Roster, type RosterItem } from "./roster.js";
import { el } from "./xml/element.js";

interface StoredRoster {
  version: number;
  items: RosterItem[];
  /** Bare JIDs whose subscription requests wait for an answer. */
  pending: string[];
}

export function rosterQueueName(bare: string): string {
  return `$xmpp/roster/${bare}`;
}

export class RosterStore {
  private readonly scope = new AckScope();

  constructor(private readonly router: Router) {}

  /** The stored roster of `bare`, or an empty one. */
  load(bare: string): Roster {
    const roster = new Roster();
    const q = this.router.queues.find(rosterQueueName(bare));
    const d = q?.get(this.scope, { noAck: true });
    if (!d) return roster;
    try {
      const s = JSON.parse(d.message.payload.toString("utf8")) as StoredRoster;
      roster.version = s.version;
      for (const item of s.items) roster.items.set(item.jid, item);
      for (const from of s.pending) {
        roster.pendingIn.set(from, el("presence", NS.client, { from, to: bare, type: "subscribe" }));
      }
    } catch {
      // an unreadable record is dropped; the user starts with an empty roster
    }
    this.save(bare, roster); // get() took the message out of the queue: put it back
    return roster;
  }

  save(bare: string, roster: Roster): void {
    const record: StoredRoster = {
      version: roster.version,
      items: [...roster.items.values()],
      pending: [...roster.pendingIn.keys()],
    };
    const q = this.router.queues.declare(rosterQueueName(bare), {
      durable: true,
      autoDelete: false,
      arguments: { maxLength: 1, overflow: "drop-head" },
    });
    q.publish(createMessage(q.name, Buffer.from(JSON.stringify(record)), 1), { persistent: true });
  }
}
