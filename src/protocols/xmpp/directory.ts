/**
 * The device directory (docs/xmpp.md): the core's record of connected clients of every protocol,
 * seen from XMPP as presence. The directory is the entity devices.<domain>; each connected client
 * is <client id, XEP-0106 escaped>@devices.<domain>. A user who subscribes to the directory's
 * presence (<presence to='devices.<domain>' type='subscribe'/>) gets the presence of every connected
 * device now and available/unavailable as they come and go. disco#items on the directory lists them.
 */
import type { ClientRecord, PresenceRecordListener } from "../../core/presence.js";
import type { XmppHub } from "./hub.js";
import type { Jid } from "./jid.js";
import { NS } from "./namespaces.js";
import type { BoundResource } from "./resource.js";
import { errorReply, iqResult } from "./stanza-error.js";
import { type Element, el } from "./xml/element.js";
import { escapeAttr, escapeText } from "./xml/serialize.js";

export const DEVICE_NS = "urn:switchboard:device:0";

/** XEP-0106 JID escaping of a client id, so any id is a valid local part. */
export function escapeLocal(id: string): string {
  return id.replace(/[\\ "&'/:<>@]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export class DeviceDirectory {
  /** Bare JIDs subscribed to the directory's presence (kept for the broker's lifetime). */
  private readonly watchers = new Set<string>();
  private readonly listener: PresenceRecordListener = (event, record) => this.changed(event, record);
  private listening = false;

  constructor(private readonly hub: XmppHub) {}

  /** Presence addressed to the directory: subscribe / unsubscribe / probe. */
  presence(r: BoundResource, p: Element, type: string | undefined): void {
    const bare = r.account.bare;
    const domain = this.hub.directoryDomain;
    if (type === "subscribe") {
      this.watchers.add(bare);
      this.listen();
      r.send(el("presence", NS.client, { from: domain, to: bare, type: "subscribed" }));
      r.send(el("presence", NS.client, { from: domain, to: r.jid }));
      for (const res of r.account.availableResources()) this.snapshot(res);
    } else if (type === "unsubscribe" || type === "unsubscribed") {
      this.watchers.delete(bare);
      r.send(el("presence", NS.client, { from: domain, to: bare, type: "unsubscribed" }));
      if (this.watchers.size === 0) this.unlisten();
    } else if (type === "probe") {
      if (this.watchers.has(bare)) this.snapshot(r);
    } else if (type !== undefined && type !== "unavailable" && type !== "error") {
      r.send(errorReply(p, "bad-request"));
    }
  }

  /** A watcher's resource became available: it gets the whole directory. */
  initialPresence(r: BoundResource): void {
    if (this.watchers.has(r.account.bare)) this.snapshot(r);
  }

  handleIq(r: BoundResource, iq: Element, payload: Element, to: Jid): void {
    if (payload.ns === NS.discoInfo && iq.attr("type") === "get") {
      const q = el("query", NS.discoInfo, {});
      q.add(el("identity", NS.discoInfo, { category: "directory", type: "user", name: "Connected devices" }));
      q.add(el("feature", NS.discoInfo, { var: NS.discoInfo }));
      q.add(el("feature", NS.discoInfo, { var: NS.discoItems }));
      return r.send(iqResult(iq, q));
    }
    if (payload.ns === NS.discoItems && iq.attr("type") === "get" && to.local === "") {
      const q = el("query", NS.discoItems, {});
      for (const rec of this.hub.router.presence.list()) {
        q.add(el("item", NS.discoItems, { jid: this.jidOf(rec), name: `${rec.protocol} ${rec.clientId}` }));
      }
      return r.send(iqResult(iq, q));
    }
    r.send(errorReply(iq, "service-unavailable"));
  }

  close(): void {
    this.unlisten();
  }

  private jidOf(rec: ClientRecord): string {
    return `${escapeLocal(rec.clientId)}@${this.hub.directoryDomain}`;
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.hub.router.presence.recordListeners.add(this.listener);
  }

  private unlisten(): void {
    this.listening = false;
    this.hub.router.presence.recordListeners.delete(this.listener);
  }

  private snapshot(r: BoundResource): void {
    for (const rec of this.hub.router.presence.list()) r.sendXml(this.presenceXml(rec, r.jid, true));
  }

  private changed(event: "connected" | "disconnected", rec: ClientRecord): void {
    for (const bare of this.watchers) {
      const account = this.hub.accounts.get(bare);
      if (!account) continue;
      for (const res of account.availableResources())
        res.sendXml(this.presenceXml(rec, res.jid, event === "connected"));
    }
  }

  /** The presence of one device: status text for people, a <device/> element for programs. */
  private presenceXml(rec: ClientRecord, to: string, available: boolean): string {
    const from = escapeAttr(this.jidOf(rec));
    const head = `<presence xmlns='${NS.client}' from='${from}' to='${escapeAttr(to)}'`;
    if (!available) return `${head} type='unavailable'/>`;
    const status = escapeText(`${rec.protocol} over ${rec.transport} from ${rec.remoteAddress}`);
    const device =
      `<device xmlns='${DEVICE_NS}' client-id='${escapeAttr(rec.clientId)}' protocol='${escapeAttr(rec.protocol)}' ` +
      `version='${escapeAttr(rec.protocolVersion)}' transport='${escapeAttr(rec.transport)}' ` +
      `address='${escapeAttr(rec.remoteAddress)}' since='${new Date(rec.connectedAt).toISOString()}'` +
      `${rec.username ? ` user='${escapeAttr(rec.username)}'` : ""}/>`;
    return `${head}><status>${status}</status>${device}</presence>`;
  }
}
