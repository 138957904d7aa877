/**
 * A shared subscription group ($share/<group>/<filter>): one entry in the TopicTree whose members
 * compete for messages, round-robin among live members. When no member is connected, messages
 * for members with persistent sessions wait in the group's backlog and go to the first member
 * that comes back (MQTT 5 §4.8.2).
 */
import type { Message, QoS } from "./message.js";
import type { Subscription } from "./session.js";

export interface GroupBacklogEntry {
  /** Store key within the group (router sequence number). */
  seq: number;
  message: Message;
  qos: QoS;
}

export class ShareGroup {
  readonly isGroup = true;
  readonly members: Subscription[] = [];
  readonly backlog: GroupBacklogEntry[] = [];
  private next = 0;

  constructor(
    readonly name: string,
    readonly topicFilter: string,
  ) {}

  /** The next live member after the last one chosen, or undefined when none is connected. */
  pickLive(): Subscription | undefined {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n;
      const m = this.members[idx]!;
      if (m.session.connection) {
        this.next = (idx + 1) % n;
        return m;
      }
    }
    return undefined;
  }

  hasPersistentMember(): boolean {
    for (const m of this.members) if (m.session.persistent) return true;
    return false;
  }
}
