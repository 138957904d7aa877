/**
 * One XMPP client-to-server stream (RFC 6120) over TCP, TLS or WebSocket (RFC 7395): stream
 * negotiation (STARTTLS, SASL, resource binding), then stanzas handed to the handlers. The state
 * that outlives a cut connection (the bound resource with its XEP-0198 counters) lives in
 * BoundResource, which a resumed stream takes over.
 */
import { randomBytes } from "node:crypto";
import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import { handleIq } from "./handlers/iq.js";
import { handleMessage } from "./handlers/message.js";
import { handlePresence } from "./handlers/presence.js";
import type { XmppHub } from "./hub.js";
import { NS } from "./namespaces.js";
import type { BoundResource } from "./resource.js";
import { SaslNegotiation } from "./sasl/negotiation.js";
import { StreamManagement } from "./sm.js";
import { errorReply } from "./stanza-error.js";
import {
  features,
  type StreamErrorCondition,
  streamError,
  streamFooter,
  streamHeader,
} from "./stream-text.js";
import type { Element } from "./xml/element.js";
import { toXml } from "./xml/serialize.js";
import { XmlStreamParser } from "./xml/stream-parser.js";

type State = "header" | "negotiating" | "open" | "closed";

export class XmppConnection {
  readonly framed: boolean;
  private parser: XmlStreamParser;
  private state: State = "header";
  private headerSent = false;
  private sasl: SaslNegotiation | undefined;
  principal: Principal | undefined;
  /** Logged in with SASL ANONYMOUS: a throw-away identity whose state is never stored. */
  ephemeral = false;
  /** The bound resource once <bind/> (or <resume/>) succeeded. */
  resource: BoundResource | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private secure: boolean;
  private corked = false;
  /** Date.now() of the last bytes received (the keepalive sweep reads it). */
  lastReceived = Date.now();

  constructor(
    readonly hub: XmppHub,
    public stream: ByteStream,
    readonly info: TransportInfo,
    private readonly log: Logger,
  ) {
    this.framed = info.kind === "ws" || info.kind === "wss";
    this.secure = info.secure;
    this.parser = this.newParser();
    stream.on("data", this.onData);
    stream.on("close", () => this.closed());
    stream.on("error", () => {});
    this.authTimer = setTimeout(
      () => this.streamError("connection-timeout", "no resource bound in time"),
      hub.options.authTimeoutMs,
    );
    this.authTimer.unref();
  }

  get domain(): string {
    return this.hub.options.domain;
  }

  get isSecure(): boolean {
    return this.secure;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastReceived = Date.now();
    this.parser.write(chunk);
  };

  /**
   * The keepalive sweep (hub): a connection silent for one interval is pinged (XEP-0199 once bound,
   * a whitespace keepalive before, RFC 6120 §4.6.1); silent for two, it is taken for dead and cut —
   * as a broken link, so a stream-management session can still be resumed.
   */
  keepalive(now: number, intervalMs: number): void {
    const silent = now - this.lastReceived;
    if (silent >= 2 * intervalMs) {
      this.log.debug("xmpp client silent: connection cut", { remote: this.info.remoteAddress });
      this.stream.destroy();
    } else if (silent >= intervalMs) {
      // through the resource: with XEP-0198 the ping is a counted stanza
      if (this.resource)
        this.resource.sendXml(
          `<iq xmlns='${NS.client}' type='get' id='keepalive' from='${this.domain}' to='${escapeXml(this.resource.jid)}'><ping xmlns='${NS.ping}'/></iq>`,
        );
      else if (!this.framed) this.write(" ");
    }
  }

  private newParser(): XmlStreamParser {
    const o = this.hub.options;
    return new XmlStreamParser(
      {
        streamOpen: (attrs, name, ns, defaultNs) => this.onStreamOpen(attrs, name, ns, defaultNs),
        stanza: (e) => this.onElement(e),
        streamClose: () => this.end(),
        error: (condition, text) => this.streamError(condition, text),
      },
      { maxStanzaSize: o.maxStanzaSize, maxDepth: o.maxDepth },
      this.framed ? "framed" : "stream",
    );
  }

  // ---- writing ---------------------------------------------------------------------------------

  /** Writes raw XML (one complete element in the WebSocket framing). */
  write(xml: string): void {
    if (this.state === "closed") return;
    // Writes of one tick go out in one syscall (DESIGN.md: batch socket writes). Not over WebSocket:
    // corking would put several stanzas in one message (RFC 7395 §3.3.3: one element per message).
    if (!this.corked && !this.framed) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(this.flush);
    }
    this.stream.write(Buffer.from(xml, "utf8"));
    // A reader this far behind is cut (its buffer is bounded); with XEP-0198 it may resume later.
    if (this.stream.writableLength > this.hub.options.maxBufferedBytes * 4) this.stream.destroy();
  }

  /** Sends what the current tick wrote (before STARTTLS takes the socket over, and at the tick's end). */
  readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  };

  // ---- stream negotiation ------------------------------------------------------------------------

  private onStreamOpen(attrs: Record<string, string>, name: string, ns: string, defaultNs: string): void {
    this.sendHeader();
    // RFC 6120 §4.9.3.10 invalid-namespace, §4.9.3.6 host-unknown, §4.9.3.25 unsupported-version
    if (name !== "stream" || ns !== NS.stream || defaultNs !== NS.client) {
      this.streamError("invalid-namespace");
      return;
    }
    this.checkOpenAndNegotiate(attrs);
  }

  private checkOpenAndNegotiate(attrs: Record<string, string>): void {
    const to = attrs.to?.toLowerCase();
    if (to !== undefined && to !== this.domain) {
      this.streamError("host-unknown", `this server serves ${this.domain}`);
      return;
    }
    const major = Number((attrs.version ?? "0.9").split(".")[0]);
    if (!(major >= 1)) {
      this.streamError("unsupported-version", "XMPP 1.0 streams only");
      return;
    }
    if (major > 1) {
      this.streamError("unsupported-version");
      return;
    }
    this.state = "negotiating";
    this.write(features(this.framed, this.featureList()));
  }

  private sendHeader(): void {
    if (this.headerSent && !this.framed) return;
    this.headerSent = true;
    this.write(streamHeader(this.framed, randomBytes(8).toString("hex"), this.domain));
  }

  private featureList(): string {
    if (!this.principal) {
      if (this.hub.tlsRequired(this)) return `<starttls xmlns='${NS.tls}'><required/></starttls>`;
      const tls = this.hub.canStartTls(this) ? `<starttls xmlns='${NS.tls}'/>` : "";
      const mechs = this.hub
        .mechanismNames(this)
        .map((m) => `<mechanism>${m}</mechanism>`)
        .join("");
      return `${tls}<mechanisms xmlns='${NS.sasl}'>${mechs}</mechanisms>`;
    }
    const sm = this.hub.options.resumeTimeoutSec >= 0 ? `<sm xmlns='${NS.sm}'/>` : "";
    return `<bind xmlns='${NS.bind}'/><session xmlns='${NS.session}'><optional/></session>${sm}`;
  }

  /** RFC 6120 §4.3.3: a new stream on the same connection after STARTTLS or SASL success. */
  restartStream(): void {
    this.state = "header";
    if (this.framed) return; // the client sends a new <open/>
    this.headerSent = false;
    this.parser.restart();
  }

  // ---- incoming elements -------------------------------------------------------------------------

  private onElement(e: Element): void {
    if (this.state === "closed") return;
    if (this.framed && e.ns === NS.framing) {
      if (e.name === "open") {
        this.sendHeader();
        this.checkOpenAndNegotiate(e.attrs);
      } else if (e.name === "close") this.end();
      else this.streamError("unsupported-stanza-type");
      return;
    }
    if (this.state === "header") {
      this.streamError("not-well-formed", "the stream has not been opened");
      return;
    }
    if (e.ns === NS.sm && this.resource) {
      this.resource.onSmElement(e);
      return;
    }
    if (!this.resource) {
      this.negotiate(e);
      return;
    }
    if (this.resource.sm) this.resource.sm.inbound++;
    this.stanza(e);
  }

  private negotiate(e: Element): void {
    if (e.ns === NS.tls && e.name === "starttls" && !this.principal) {
      this.hub.startTls(this);
      return;
    }
    if (e.ns === NS.sasl && !this.principal) {
      if (this.hub.tlsRequired(this)) {
        this.write(`<failure xmlns='${NS.sasl}'><encryption-required/></failure>`);
        return;
      }
      this.sasl ??= new SaslNegotiation(this, this.hub);
      this.sasl.handle(e);
      return;
    }
    if (this.principal && e.name === "iq" && e.ns === NS.client && e.child("bind", NS.bind)) {
      this.bind(e);
      return;
    }
    if (this.principal && e.ns === NS.sm && e.name === "resume") {
      this.hub.resume(this, e);
      return;
    }
    if (this.principal && e.ns === NS.sm && e.name === "enable") {
      this.write(`<failed xmlns='${NS.sm}'><unexpected-request xmlns='${NS.stanzas}'/></failed>`);
      return;
    }
    if (!this.principal) {
      this.streamError("not-authorized", "authenticate first (RFC 6120 §6)");
      return;
    }
    // Authenticated but not bound: only bind and resume are meaningful (RFC 6120 §7.1).
    if (e.name === "iq" && e.ns === NS.client && (e.attr("type") === "get" || e.attr("type") === "set")) {
      this.write(toXml(errorReply(e, "not-authorized", "bind a resource first")));
      return;
    }
    this.streamError("not-authorized", "bind a resource first");
  }

  /** SASL succeeded: remember who it is; the stream restarts. */
  authenticated(principal: Principal): void {
    this.principal = principal;
    this.restartStream();
  }

  /** STARTTLS: the transport is now TLS (the stream restarts). */
  upgraded(stream: ByteStream): void {
    this.stream = stream;
    this.secure = true;
    this.parser = this.newParser();
    stream.on("data", this.onData);
    this.state = "header";
    this.headerSent = false;
  }

  private bind(iq: Element): void {
    if (iq.attr("type") !== "set") {
      this.write(toXml(errorReply(iq, "bad-request")));
      return;
    }
    const requested = iq.child("bind", NS.bind)?.child("resource", NS.bind)?.text().trim() ?? "";
    const resource =
      requested !== "" && Buffer.byteLength(requested) <= 1023 ? requested : randomBytes(6).toString("hex");
    this.resource = this.hub.bind(this, resource);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.state = "open";
    const reply = `<iq xmlns='${NS.client}' type='result' id='${escapeId(iq.attr("id"))}'><bind xmlns='${NS.bind}'><jid>${escapeXml(this.resource.jid)}</jid></bind></iq>`;
    this.write(reply);
  }

  /** A resumed stream (XEP-0198 §5) takes over `resource`. */
  adopt(resource: BoundResource): void {
    this.resource = resource;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.state = "open";
  }

  private stanza(e: Element): void {
    if (e.ns !== NS.client) {
      // RFC 6120 §4.9.3.24: a first-level element that is no stanza
      this.streamError("unsupported-stanza-type", `<${e.name}/> in ${e.ns}`);
      return;
    }
    const r = this.resource!;
    if (e.name === "message") handleMessage(r, e);
    else if (e.name === "presence") handlePresence(r, e);
    else if (e.name === "iq") handleIq(r, e);
    else this.streamError("unsupported-stanza-type", `<${e.name}/>`);
  }

  // ---- closing -----------------------------------------------------------------------------------

  /** Ends the stream with a stream error (RFC 6120 §4.9): error, footer, close. */
  streamError(condition: StreamErrorCondition, text?: string): void {
    if (this.state === "closed") return;
    this.log.debug("xmpp stream error", { condition, text, remote: this.info.remoteAddress });
    this.sendHeader();
    this.write(streamError(this.framed, condition, text));
    this.finish(true);
  }

  /** The client closed its stream: a clean end (XEP-0198: no resumption after a clean close). */
  private end(): void {
    if (this.state === "closed") return;
    this.finish(true);
  }

  /** Server-side close (shutdown, conflict). */
  close(condition: StreamErrorCondition, text?: string): void {
    this.streamError(condition, text);
  }

  private finish(clean: boolean): void {
    if (this.state === "closed") return;
    this.write(streamFooter(this.framed));
    this.parser.stop();
    this.state = "closed";
    if (this.authTimer) clearTimeout(this.authTimer);
    this.resource?.connectionEnded(this, clean);
    this.resource = undefined;
    this.stream.end();
    this.hub.forget(this);
  }

  private closed(): void {
    if (this.state === "closed") {
      this.hub.forget(this);
      return;
    }
    this.state = "closed";
    this.parser.stop();
    if (this.authTimer) clearTimeout(this.authTimer);
    // A cut connection: a resumable resource waits for its client to come back.
    this.resource?.connectionEnded(this, false);
    this.resource = undefined;
    this.hub.forget(this);
  }

  destroy(): void {
    this.stream.destroy();
  }

  get isOpen(): boolean {
    return this.state !== "closed";
  }

  newSm(resumable: boolean): StreamManagement {
    return new StreamManagement(resumable);
  }
}

function escapeId(id: string | undefined): string {
  return id === undefined ? "" : escapeXml(id);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
