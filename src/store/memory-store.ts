/**
 * The in-memory Store: durable for the life of the process only. A broker restarted in the same
 * process with the same MemoryStore (tests, embedding) gets its sessions, queues and retained
 * messages back; `--store memory` uses it when nothing should touch the disk.
 */
import type { Message } from "../core/message.js";
import type {
  Store,
  StoredDelivery,
  StoredGroupMessage,
  StoredQueue,
  StoredQueueMessage,
  StoredSession,
  StoredState,
  StoredWill,
} from "./store.js";

export class MemoryStore implements Store {
  readonly kind = "memory";
  private readonly sessions = new Map<string, StoredSession>();
  private readonly deliveries = new Map<string, Map<number, StoredDelivery>>();
  private readonly retained = new Map<string, Message>();
  private readonly incoming = new Map<string, Set<number>>();
  private readonly wills = new Map<string, StoredWill>();
  private readonly groupMessages = new Map<string, Map<number, StoredGroupMessage>>();
  private readonly queues = new Map<string, StoredQueue>();
  private readonly queueMessages = new Map<string, Map<number, StoredQueueMessage>>();

  async load(): Promise<StoredState> {
    const deliveries: StoredDelivery[] = [];
    for (const perClient of this.deliveries.values()) {
      for (const d of perClient.values()) deliveries.push({ ...d });
    }
    deliveries.sort((a, b) => a.seq - b.seq);
    const incomingQos2: StoredState["incomingQos2"] = [];
    for (const [clientId, ids] of this.incoming) {
      for (const packetId of ids) incomingQos2.push({ clientId, packetId });
    }
    const groupMessages: StoredGroupMessage[] = [];
    for (const perGroup of this.groupMessages.values()) {
      for (const m of perGroup.values()) groupMessages.push({ ...m });
    }
    groupMessages.sort((a, b) => a.seq - b.seq);
    const queueMessages: StoredQueueMessage[] = [];
    for (const perQueue of this.queueMessages.values()) {
      const ordered = [...perQueue.values()].sort((a, b) => a.seq - b.seq);
      for (const m of ordered) queueMessages.push({ ...m });
    }
    return {
      sessions: [...this.sessions.values()].map((s) => ({ ...s, subscriptions: [...s.subscriptions] })),
      deliveries,
      retained: [...this.retained.values()],
      incomingQos2,
      wills: [...this.wills.values()].map((w) => ({ ...w })),
      groupMessages,
      queues: [...this.queues.values()].map((q) => ({ ...q, arguments: { ...q.arguments } })),
      queueMessages,
    };
  }

  saveSession(session: StoredSession): void {
    this.sessions.set(session.clientId, { ...session, subscriptions: [...session.subscriptions] });
  }

  deleteSession(clientId: string): void {
    this.sessions.delete(clientId);
    this.deliveries.delete(clientId);
    this.incoming.delete(clientId);
  }

  saveDelivery(delivery: StoredDelivery): void {
    let perClient = this.deliveries.get(delivery.clientId);
    if (!perClient) {
      perClient = new Map();
      this.deliveries.set(delivery.clientId, perClient);
    }
    perClient.set(delivery.seq, { ...delivery, message: { ...delivery.message, encoded: undefined } });
  }

  deleteDelivery(clientId: string, seq: number): void {
    this.deliveries.get(clientId)?.delete(seq);
  }

  updateDelivery(
    clientId: string,
    seq: number,
    packetId: number | undefined,
    state: StoredDelivery["state"],
  ): void {
    // The stored object is this store's own copy (load() hands out copies): change it in place.
    const d = this.deliveries.get(clientId)?.get(seq);
    if (!d) return;
    if (packetId === undefined) delete d.packetId;
    else d.packetId = packetId;
    d.state = state;
  }

  setRetained(message: Message): void {
    this.retained.set(message.topic, { ...message, encoded: undefined });
  }

  deleteRetained(topic: string): void {
    this.retained.delete(topic);
  }

  addIncomingQos2(clientId: string, packetId: number): void {
    let ids = this.incoming.get(clientId);
    if (!ids) {
      ids = new Set();
      this.incoming.set(clientId, ids);
    }
    ids.add(packetId);
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    this.incoming.get(clientId)?.delete(packetId);
  }

  saveWill(will: StoredWill): void {
    this.wills.set(will.clientId, { ...will, message: detach(will.message) });
  }

  deleteWill(clientId: string): void {
    this.wills.delete(clientId);
  }

  saveGroupMessage(message: StoredGroupMessage): void {
    let perGroup = this.groupMessages.get(message.group);
    if (!perGroup) {
      perGroup = new Map();
      this.groupMessages.set(message.group, perGroup);
    }
    perGroup.set(message.seq, { ...message, message: detach(message.message) });
  }

  deleteGroupMessage(group: string, seq: number): void {
    const perGroup = this.groupMessages.get(group);
    perGroup?.delete(seq);
    if (perGroup?.size === 0) this.groupMessages.delete(group);
  }

  saveQueue(queue: StoredQueue): void {
    this.queues.set(queue.name, { ...queue, arguments: { ...queue.arguments } });
  }

  deleteQueue(name: string): void {
    this.queues.delete(name);
    this.queueMessages.delete(name);
  }

  saveQueueMessage(message: StoredQueueMessage): void {
    let perQueue = this.queueMessages.get(message.queue);
    if (!perQueue) {
      perQueue = new Map();
      this.queueMessages.set(message.queue, perQueue);
    }
    perQueue.set(message.seq, { ...message, message: detach(message.message) });
  }

  deleteQueueMessage(queue: string, seq: number): void {
    const perQueue = this.queueMessages.get(queue);
    perQueue?.delete(seq);
    if (perQueue?.size === 0) this.queueMessages.delete(queue);
  }

  async commit(): Promise<void> {}

  async close(): Promise<void> {}
}

/** A stored copy shares the payload but not the caller's object or its encoded-bytes cache. */
function detach(message: Message): Message {
  return { ...message, properties: { ...message.properties }, encoded: undefined };
}
