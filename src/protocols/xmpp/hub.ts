/**
 * The XMPP side of the router: connections, accounts (bare JIDs) with their bound resources,
 * rosters, stream-management sessions waiting to be resumed, and the services (PubSub, the device
 * directory, offline storage). Handlers reach everything through it.
 */
import type { TLSSocket } from "node:tls";
import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import { NEVER_EXPIRES, type Router } from "../../core/router.js";
import { type TlsCredentials, upgradeToTls } from "../../transports/tls.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { Account } from "./account.js";
import { XmppConnection } from "./connection.js";
import { DeviceDirectory } from "./directory.js";
import { broadcastUnavailable } from "./handlers/presence.js";
import { bareOf, parseJid } from "./jid.js";
import { NS } from "./namespaces.js";
import { OfflineStore } from "./offline.js";
import type { XmppOptions } from "./options.js";
import { PubSubService } from "./pubsub/service.js";
import { BoundResource } from "./resource.js";
import { Roster } from "./roster.js";
import { RosterStore } from "./roster-store.js";
import type { SaslContext, SaslMechanism } from "./sasl/mechanism.js";
import { AnonymousMechanism, PlainMechanism } from "./sasl/plain.js";
import { ScramMechanism } from "./sasl/scram.js";
import { errorReply, type StanzaErrorCondition } from "./stanza-error.js";
import type { Element } from "./xml/element.js";

export class XmppHub {
  readonly connections = new Set<XmppConnection>();
  readonly accounts = new Map<string, Account>();
  /** Rosters by bare JID, loaded from the store when first needed. */
  readonly rosters = new Map<string, Roster>();
  private readonly rosterStore: RosterStore;
  /** SASL ANONYMOUS users (XEP-0175): nothing of theirs is stored, all of it ends with the session. */
  private readonly ephemeral = new Set<string>();
  private readonly resumable = new Map<string, BoundResource>();
  readonly pubsub: PubSubService;
  readonly directory: DeviceDirectory;
  readonly offline: OfflineStore;

  constructor(
    readonly router: Router,
    readonly options: XmppOptions,
    readonly log: Logger,
    private readonly tls?: TlsCredentials,
  ) {
    this.pubsub = new PubSubService(this);
    this.directory = new DeviceDirectory(this);
    this.offline = new OfflineStore(this);
    this.rosterStore = new RosterStore(router);
    const interval = options.pingIntervalSec * 1000;
    if (interval > 0) {
      // one sweep for every connection, twice per interval, instead of a timer each
      this.sweep = setInterval(() => {
        const now = Date.now();
        for (const c of this.connections) c.keepalive(now, interval);
      }, interval / 2);
      this.sweep.unref();
    }
  }

  private sweep: NodeJS.Timeout | undefined;

  get pubsubDomain(): string {
    return `pubsub.${this.options.domain}`;
  }

  get directoryDomain(): string {
    return `devices.${this.options.domain}`;
  }

  accept(stream: ByteStream, info: TransportInfo): void {
    this.connections.add(new XmppConnection(this, stream, info, this.log));
  }

  forget(conn: XmppConnection): void {
    this.connections.delete(conn);
  }

  // ---- TLS and SASL ----------------------------------------------------------------------------

  canStartTls(conn: XmppConnection): boolean {
    return this.tls !== undefined && this.options.starttls && conn.info.kind === "tcp" && !conn.isSecure;
  }

  /** RFC 6120 §5.3.1: with a certificate configured, plain TCP must upgrade before authenticating. */
  tlsRequired(conn: XmppConnection): boolean {
    return this.canStartTls(conn);
  }

  /** <starttls/>: <proceed/>, then TLS on the same socket and a new stream (RFC 6120 §5.4.2.3). */
  startTls(conn: XmppConnection): void {
    if (!this.tls || !this.canStartTls(conn)) {
      conn.write(`<failure xmlns='${NS.tls}'/>`);
      conn.close("policy-violation", "STARTTLS is not available");
      return;
    }
    conn.write(`<proceed xmlns='${NS.tls}'/>`);
    conn.flush();
    const socket: TLSSocket = upgradeToTls(conn.stream, this.tls);
    conn.upgraded(socket);
  }

  /** Offered mechanisms, strongest first (none depends on the connection yet: no channel binding). */
  mechanismNames(_conn: XmppConnection): string[] {
    const names: string[] = [];
    if (this.router.auth.scramCredentials) names.push("SCRAM-SHA-256", "SCRAM-SHA-1");
    names.push("PLAIN", "ANONYMOUS");
    return names;
  }

  mechanism(name: string, conn: XmppConnection): SaslMechanism | undefined {
    const ctx: SaslContext = {
      domain: this.options.domain,
      clientId: `xmpp:${conn.info.remoteAddress}:${conn.info.remotePort}`,
      secure: conn.isSecure,
      remoteAddress: conn.info.remoteAddress,
    };
    const auth = this.router.auth;
    if (name === "PLAIN") return new PlainMechanism(auth, ctx);
    if (name === "ANONYMOUS") return new AnonymousMechanism(auth, ctx);
    if (name === "SCRAM-SHA-1" && auth.scramCredentials) return new ScramMechanism(auth, ctx, "sha1");
    if (name === "SCRAM-SHA-256" && auth.scramCredentials) return new ScramMechanism(auth, ctx, "sha256");
    return undefined;
  }

  // ---- resources -------------------------------------------------------------------------------

  /** The roster of `bare`, read from the store the first time. */
  rosterOf(bare: string): Roster {
    let r = this.rosters.get(bare);
    if (!r) {
      r = this.ephemeral.has(bare) ? new Roster() : this.rosterStore.load(bare);
      this.rosters.set(bare, r);
    }
    return r;
  }

  /** Writes `bare`'s roster to the store (after every change), unless the user is ephemeral. */
  saveRoster(bare: string): void {
    const r = this.rosters.get(bare);
    if (r && !this.ephemeral.has(bare)) this.rosterStore.save(bare, r);
  }

  bareOf(principal: Principal): string {
    return `${(principal.username ?? "anonymous").toLowerCase()}@${this.options.domain}`;
  }

  /** Binds `name` for the connection's user; an existing resource of that name is replaced (RFC 6120 §7.7.2.2). */
  bind(conn: XmppConnection, name: string): BoundResource {
    const principal = conn.principal!;
    const bare = this.bareOf(principal);
    let account = this.accounts.get(bare);
    if (conn.ephemeral) this.ephemeral.add(bare);
    if (!account) {
      const info = {
        protocol: "xmpp",
        protocolVersion: "1.0",
        remoteAddress: conn.info.remoteAddress,
        remotePort: conn.info.remotePort,
        transport: conn.info.kind,
        username: principal.username,
        connectedAt: Date.now(),
      };
      account = new Account(this, bare, this.rosterOf(bare), conn.ephemeral, info);
      this.accounts.set(bare, account);
      const expiry = conn.ephemeral ? 0 : NEVER_EXPIRES;
      account.session = this.router.attach(account.clientId, "xmpp", false, expiry, account).session;
    }
    account.resources.get(name)?.end();
    const resource = new BoundResource(account, name, conn);
    account.resources.set(name, resource);
    return resource;
  }

  /** The resource ended: presence unavailable, unacknowledged messages re-routed, account detached. */
  unbind(resource: BoundResource): void {
    const account = resource.account;
    if (account.resources.get(resource.name) !== resource) return;
    account.resources.delete(resource.name);
    if (resource.sm) this.resumable.delete(resource.sm.id);
    broadcastUnavailable(resource);
    if (resource.sm) this.offline.rerouteUnacked(resource, resource.sm.takeUnacked());
    if (account.resources.size === 0) {
      this.accounts.delete(account.bare);
      if (account.session) this.router.detach(account.session, account);
      if (account.anonymous) {
        this.rosters.delete(account.bare);
        this.ephemeral.delete(account.bare);
      }
    }
  }

  rememberResumable(resource: BoundResource): void {
    this.resumable.set(resource.sm!.id, resource);
  }

  /** <resume previd h/> (XEP-0198 §5). */
  resume(conn: XmppConnection, e: Element): void {
    const resource = this.resumable.get(e.attr("previd") ?? "");
    const h = Number(e.attr("h"));
    const fail = (cond: string) =>
      conn.write(`<failed xmlns='${NS.sm}'><${cond} xmlns='${NS.stanzas}'/></failed>`);
    if (!resource || resource.isEnded || resource.account.bare !== this.bareOf(conn.principal!)) {
      fail("item-not-found");
      return;
    }
    if (!Number.isInteger(h) || h < 0) {
      fail("bad-request");
      return;
    }
    const again = resource.resumeOn(conn, h);
    if (!again) {
      fail("unexpected-request");
      return;
    }
    conn.adopt(resource);
    conn.write(`<resumed xmlns='${NS.sm}' previd='${resource.sm!.id}' h='${resource.sm!.inbound}'/>`);
    for (const xml of again) resource.sendXml(xml);
  }

  /** An error reply to the sender of `stanza` (its 'from' is the sender's full JID), if still bound. */
  bounce(stanza: Element, condition: StanzaErrorCondition): void {
    const from = parseJid(stanza.attr("from") ?? "");
    if (!from || from.resource === "" || stanza.attr("type") === "error") return;
    this.resourceOf(bareOf(from), from.resource)?.send(errorReply(stanza, condition));
  }

  /** The resource with full JID `jid`, if bound. */
  resourceOf(bare: string, name: string): BoundResource | undefined {
    return this.accounts.get(bare)?.resources.get(name);
  }

  /** Closes every connection (shutdown) and waits for them, at most `ms`. */
  async drained(ms: number): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const c of this.connections) c.close("system-shutdown");
    const until = Date.now() + ms;
    while (this.connections.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.connections) c.destroy();
    for (const r of this.resumable.values()) r.end();
    this.directory.close();
  }
}
