/**
 * Presence: the record of connected devices (DESIGN.md). Who is connected, over which protocol,
 * from where, since when, with which subscriptions. Connect and disconnect events are published
 * on $SYS/clients/<client id>/connected|disconnected so every protocol can watch them.
 */
import { createMessage } from "./message.js";
import type { Router } from "./router.js";
import type { ConnectionInfo, Session, SessionConnection } from "./session.js";

export interface ClientRecord extends ConnectionInfo {
  clientId: string;
  /** The session id of this connection (Session.id). */
  sessionId: number;
  persistent: boolean;
  subscriptions: string[];
  /** Procedures this client serves (as a callee of the Dealer, whatever its protocol). */
  registrations: string[];
  /** Messages it published / that were delivered to it since its session began. */
  messagesIn: number;
  messagesOut: number;
  queued: number;
  inflight: number;
}

/** Told of every session that joins or leaves, whatever its protocol (e.g. WAMP's session meta events). */
export interface PresenceListener {
  joined(session: Session, conn: SessionConnection): void;
  left(session: Session, conn: SessionConnection): void;
}

/** In-process observers of connects and disconnects given the client record (e.g. the XMPP device directory). */
export type PresenceRecordListener = (event: "connected" | "disconnected", record: ClientRecord) => void;

export class Presence {
  private closed = false;
  private readonly listeners: PresenceListener[] = [];
  /** Called on every connect and disconnect, whether or not anyone subscribed to $SYS/clients. */
  readonly recordListeners = new Set<PresenceRecordListener>();

  constructor(private readonly router: Router) {}

  get connectedCount(): number {
    let n = 0;
    for (const s of this.router.sessions.values()) if (s.connection) n++;
    return n;
  }

  /** A snapshot of every connected client (admin API, tests). */
  list(): ClientRecord[] {
    const out: ClientRecord[] = [];
    const regs = this.registrationsBySession();
    for (const s of this.router.sessions.values()) {
      if (s.connection) out.push(this.record(s, s.connection, regs.get(s)));
    }
    return out;
  }

  /** Procedures registered per callee session (one walk over the Dealer's registrations). */
  private registrationsBySession(): Map<Session, string[]> {
    const out = new Map<Session, string[]>();
    for (const reg of this.router.dealer.registrations()) {
      for (const callee of reg.callees) {
        let list = out.get(callee.session);
        if (list === undefined) {
          list = [];
          out.set(callee.session, list);
        }
        if (!list.includes(reg.procedure)) list.push(reg.procedure);
      }
    }
    return out;
  }

  get(clientId: string): ClientRecord | undefined {
    const s = this.router.sessions.get(clientId);
    return s?.connection ? this.record(s, s.connection, this.registrationsBySession().get(s)) : undefined;
  }

  listen(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** The connected session whose id (Session.id) is `id`. */
  byId(id: number): Session | undefined {
    for (const s of this.router.sessions.values()) if (s.connection && s.id === id) return s;
    return undefined;
  }

  connected(session: Session): void {
    const c = session.connection;
    if (c) for (const l of this.listeners) l.joined(session, c);
    if (c && this.recordListeners.size > 0) this.tell("connected", this.record(session, c));
    if (c && this.watched()) this.emit(session.clientId, "connected", this.record(session, c));
  }

  disconnected(session: Session, conn: SessionConnection): void {
    for (const l of this.listeners) l.left(session, conn);
    if (this.recordListeners.size > 0) this.tell("disconnected", this.record(session, conn));
    if (!this.watched()) return;
    this.emit(session.clientId, "disconnected", {
      ...this.record(session, conn),
      disconnectedAt: Date.now(),
    });
  }

  close(): void {
    this.closed = true;
  }

  private tell(event: "connected" | "disconnected", record: ClientRecord): void {
    for (const l of this.recordListeners) l(event, record);
  }

  /**
   * False when no subscription exists at all, so no event could reach anyone: the record, its JSON
   * and the routing are then skipped (they were a large part of each connect and disconnect).
   */
  private watched(): boolean {
    return !this.closed && this.router.subscriptionCount > 0;
  }

  private record(s: Session, c: SessionConnection, registrations: string[] = []): ClientRecord {
    return {
      clientId: s.clientId,
      sessionId: s.id,
      ...c.info,
      persistent: s.persistent,
      subscriptions: [...s.subscriptions.keys()],
      registrations,
      messagesIn: s.messagesIn,
      messagesOut: s.messagesOut,
      queued: s.queue.length,
      inflight: s.inflight.size,
    };
  }

  private emit(clientId: string, event: string, body: object): void {
    if (this.closed) return;
    // Client ids may contain "/", "+" or "#"; those would break the topic, so they are escaped.
    const safe = clientId.replace(/[/+#]/g, "_");
    const msg = createMessage(`$SYS/clients/${safe}/${event}`, Buffer.from(JSON.stringify(body)), 0, false, {
      contentType: "application/json",
    });
    this.router.publish(msg);
  }
}
