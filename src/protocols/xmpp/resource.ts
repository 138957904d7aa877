/**
 * A bound resource (RFC 6120 §7): user@domain/resource with its presence and, when enabled, its
 * XEP-0198 state. It is usually tied to one connection; after a cut connection with resumption
 * enabled it lives on without one (stanzas for it are kept unacknowledged) until its client
 * resumes or the resume timeout ends it.
 */
import type { Account } from "./account.js";
import type { XmppConnection } from "./connection.js";
import { NS } from "./namespaces.js";
import type { XmppRpcCaller } from "./rpc/caller.js";
import type { StreamManagement } from "./sm.js";
import type { Element } from "./xml/element.js";
import { toXml } from "./xml/serialize.js";

/** Ask the client for an ack after this many unacknowledged stanzas (XEP-0198 §4). */
const ACK_REQUEST_EVERY = 10;
/** Unacknowledged stanzas kept per resource; past it the session ends (its messages go offline). */
const MAX_UNACKED = 10_000;

export class BoundResource {
  readonly jid: string;
  conn: XmppConnection | undefined;
  /** Sent initial presence and not unavailable since (RFC 6121 §4.2). */
  available = false;
  priority = 0;
  /** The last broadcast presence (an available <presence/>, without from/to). */
  presence: Element | undefined;
  /** Entities that got directed presence and must get our unavailable (RFC 6121 §4.6). */
  readonly directed = new Set<string>();
  /** Asked for the roster: gets roster pushes (RFC 6121 §2.1.6). */
  interested = false;
  sm: StreamManagement | undefined;
  /** Its RPC calls (made on the first one); a call outlives a cut connection only while resumable. */
  rpcCaller: XmppRpcCaller | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly account: Account,
    readonly name: string,
    conn: XmppConnection,
  ) {
    this.jid = `${account.bare}/${name}`;
    this.conn = conn;
  }

  get hub() {
    return this.account.hub;
  }

  /** Sends a stanza's XML (counted by stream management, kept while unacknowledged). */
  sendXml(xml: string): void {
    if (this.ended) return;
    const sm = this.sm;
    if (sm) {
      if (sm.unackedCount >= MAX_UNACKED) {
        this.end();
        return;
      }
      sm.sent(xml);
      this.conn?.write(xml);
      if (sm.unackedCount % ACK_REQUEST_EVERY === 0) this.conn?.write(`<r xmlns='${NS.sm}'/>`);
      return;
    }
    this.conn?.write(xml);
  }

  /** Sends a stanza (top-level stanzas carry xmlns='jabber:client': valid in both framings). */
  send(stanza: Element | string): void {
    this.sendXml(typeof stanza === "string" ? stanza : toXml(stanza));
  }

  /** <enable/>, <r/>, <a/> (XEP-0198 §3-4). */
  onSmElement(e: Element): void {
    const conn = this.conn!;
    if (e.name === "enable") {
      if (this.sm) {
        conn.write(`<failed xmlns='${NS.sm}'><unexpected-request xmlns='${NS.stanzas}'/></failed>`);
        return;
      }
      const timeout = this.hub.options.resumeTimeoutSec;
      const resumable = (e.attr("resume") === "true" || e.attr("resume") === "1") && timeout > 0;
      this.sm = conn.newSm(resumable);
      if (resumable) this.hub.rememberResumable(this);
      const resume = resumable ? ` resume='true' max='${timeout}'` : "";
      conn.write(`<enabled xmlns='${NS.sm}' id='${this.sm.id}'${resume}/>`);
    } else if (!this.sm) {
      conn.write(`<failed xmlns='${NS.sm}'><unexpected-request xmlns='${NS.stanzas}'/></failed>`);
    } else if (e.name === "r") {
      // <a/> says the stanzas up to h are handled: it waits for the store commit that makes what
      // they did durable (offline messages, published items), as MQTT's PUBACK does.
      const h = this.sm.inbound;
      this.hub.router.store.commit().then(
        () => {
          if (this.conn === conn) conn.write(`<a xmlns='${NS.sm}' h='${h}'/>`);
        },
        () => conn.streamError("internal-server-error", "store commit failed"),
      );
    } else if (e.name === "a") {
      const h = Number(e.attr("h"));
      if (!Number.isInteger(h) || h < 0 || !this.sm.ack(h)) {
        // XEP-0198 §4: acknowledging more than was sent ends the stream
        conn.streamError("undefined-condition", "h acknowledges more stanzas than were sent");
      }
    }
  }

  /** The connection went away; `clean` = closed by </stream> or by the server. */
  connectionEnded(conn: XmppConnection, clean: boolean): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    if (!clean && this.sm?.resumable && !this.ended) {
      this.resumeTimer = setTimeout(() => this.end(), this.hub.options.resumeTimeoutSec * 1000);
      this.resumeTimer.unref();
      return;
    }
    this.end();
  }

  /** A new stream resumed this resource (XEP-0198 §5); returns the stanzas to resend, or undefined. */
  resumeOn(conn: XmppConnection, h: number): string[] | undefined {
    const again = this.sm?.resendAfter(h);
    if (!again) return undefined;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    const old = this.conn;
    this.conn = conn;
    if (old) old.close("conflict", "resumed on another connection");
    return again;
  }

  /** The resource ends: unavailable presence, unacknowledged messages re-routed (XEP-0198 §4). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    const conn = this.conn;
    this.conn = undefined;
    if (conn?.isOpen) conn.close("conflict");
    this.rpcCaller?.leave();
    this.hub.unbind(this);
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
