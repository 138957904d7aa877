/**
 * The in-memory Store: durable for the life of the process only. A broker restarted in the same
 * process with the same MemoryStore (tests, embedding) gets its sessions, queues and retained
 * messages back; `--store memory` uses it when nothing should touch the disk.
 */
import type { Message } from "../core/message.js";
import type { Store, StoredDelivery, StoredSession, StoredState } from "./store.js";

export class MemoryStore implements Store {
  readonly kind = "memory";
  private readonly sessions = new Map<string, StoredSession>();
  private readonly deliveries = new Map<string, Map<number, StoredDelivery>>();
  private readonly retained = new Map<string, Message>();
  private readonly incoming = new Map<string, Set<number>>();

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
    return {
      sessions: [...this.sessions.values()].map((s) => ({ ...s, subscriptions: [...s.subscriptions] })),
      deliveries,
      retained: [...this.retained.values()],
      incomingQos2,
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

  async commit(): Promise<void> {}

  async close(): Promise<void> {}
}
