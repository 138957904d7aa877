/**
 * The streaming XML reader for one XMPP stream, built on `saxes` (a non-validating streaming parser
 * that never reads a DTD, so it cannot expand entities or fetch external ones) with the limits XMPP
 * needs enforced around it:
 * - RFC 6120 §11.1 restricted XML: a DOCTYPE (hence any entity declaration: no "billion laughs"),
 *   processing instructions and comments end the stream with <restricted-xml/>;
 * - stanza size: characters from the end of the previous top-level element (or the stream header)
 *   to the end of the current one; checked on every event and at the end of every chunk, so at most
 *   one socket read beyond the limit is ever held;
 * - nesting depth;
 * - anything not well-formed (saxes' errors, bad UTF-8) is <not-well-formed/>.
 *
 * Two framings: "stream" (RFC 6120 TCP: one <stream:stream> root whose children are the stanzas)
 * and "framed" (RFC 7395 WebSocket: every message is one complete element, <open/> and <close/>
 * included; we parse them as children of an implicit root so both framings share the code).
 */
import { SaxesParser, type SaxesTagNS } from "saxes";
import { NS } from "../namespaces.js";
import { Element } from "./element.js";

export interface XmlLimits {
  /** Largest top-level element (stanza), in characters. */
  maxStanzaSize: number;
  /** Deepest nesting inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
}

export type XmlErrorCondition =
  | "not-well-formed"
  | "restricted-xml"
  | "policy-violation"
  | "bad-namespace-prefix"
  | "unsupported-encoding";

export interface XmlStreamHandler {
  /** The <stream:stream> header ("stream" framing only); attrs unprefixed, ns of the root. */
  streamOpen(attrs: Record<string, string>, name: string, ns: string, defaultNs: string): void;
  /** One complete top-level element. */
  stanza(el: Element): void;
  /** </stream:stream> ("stream" framing only). */
  streamClose(): void;
  error(condition: XmlErrorCondition, text: string): void;
}

type Framing = "stream" | "framed";

const FRAMED_ROOT = `<root xmlns='${NS.client}' xmlns:stream='${NS.stream}'>`;

export class XmlStreamParser {
  private sax!: SaxesParser<{ xmlns: true; position: true }>;
  /** Fatal: bytes that are not UTF-8 end the stream (RFC 6120 §11.6) instead of becoming U+FFFD. */
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private stack: Element[] = [];
  private depth = 0;
  /** saxes position where the current top-level element (or the prolog) began. */
  private mark = 0;
  /** Characters written to the current saxes parser (its `position` is only right inside events). */
  private fed = 0;
  /** `fed` when the chunk being written began. */
  private chunkStart = 0;
  /** Set by restart() from inside a handler: the parser is replaced after the current element. */
  private restartAt = -1;
  private failed = false;
  private writing = false;

  constructor(
    private readonly handler: XmlStreamHandler,
    private readonly limits: XmlLimits,
    private readonly framing: Framing,
  ) {
    this.create();
  }

  /** Feeds bytes; events fire synchronously. */
  write(chunk: Buffer): void {
    if (this.failed) return;
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      this.fail("unsupported-encoding", "the stream is not valid UTF-8 (RFC 6120 §11.6)");
      return;
    }
    while (text.length > 0 && !this.failed) {
      this.chunkStart = this.fed;
      this.fed += text.length;
      this.restartAt = -1;
      this.writing = true;
      try {
        this.sax.write(text);
      } catch (err) {
        this.fail("not-well-formed", (err as Error).message);
        return;
      } finally {
        this.writing = false;
      }
      if (this.failed) return;
      if (this.restartAt >= 0) {
        // RFC 6120 §4.3.3: after SASL success / STARTTLS the stream restarts; bytes after the
        // element that caused it belong to the new stream.
        text = text.slice(this.restartAt - this.chunkStart);
        this.create();
        continue;
      }
      this.checkSize(this.fed);
      return;
    }
  }

  /**
   * A new stream begins after the current element (RFC 6120 §4.3.3). Called by a handler during
   * stanza(); in "framed" mode the client opens the new stream with <open/> on the same parser.
   */
  restart(): void {
    if (this.framing === "framed") return;
    // Between writes (e.g. after an asynchronous SASL check) the next byte starts the new stream.
    if (this.writing) this.restartAt = this.sax.position;
    else this.create();
  }

  /** Stops parsing (after a stream error or close). */
  stop(): void {
    this.failed = true;
  }

  private create(): void {
    const sax = new SaxesParser({ xmlns: true, position: true });
    this.sax = sax;
    this.stack = [];
    this.depth = 0;
    this.mark = 0;
    this.fed = 0;
    // Errors of a parser being replaced (restart) concern bytes that belong to the new one.
    sax.on("error", (err) => {
      if (this.restartAt < 0) this.fail(saxCondition(err.message), err.message);
    });
    sax.on("doctype", () => this.fail("restricted-xml", "DTDs are not allowed (RFC 6120 §11.1)"));
    sax.on("processinginstruction", () =>
      this.fail("restricted-xml", "processing instructions are not allowed"),
    );
    sax.on("comment", () => this.fail("restricted-xml", "comments are not allowed (RFC 6120 §11.1)"));
    sax.on("opentag", (tag) => this.open(tag as SaxesTagNS));
    sax.on("closetag", () => this.close());
    sax.on("text", (t) => this.text(t));
    sax.on("cdata", (t) => this.text(t));
    if (this.framing === "framed") {
      sax.write(FRAMED_ROOT);
      this.fed = FRAMED_ROOT.length;
      this.mark = this.fed;
    }
  }

  private open(tag: SaxesTagNS): void {
    if (this.failed || this.restartAt >= 0) return;
    this.depth++;
    if (this.depth === 1) {
      if (this.framing === "stream") {
        this.handler.streamOpen(plainAttrs(tag), tag.local, tag.uri, tag.ns[""] ?? "");
        this.mark = this.sax.position;
      }
      return;
    }
    if (this.depth - 1 > this.limits.maxDepth) {
      this.fail("policy-violation", `elements nested deeper than ${this.limits.maxDepth}`);
      return;
    }
    const e = new Element(tag.local, tag.uri, plainAttrs(tag));
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(e);
    this.stack.push(e);
    this.checkSize();
  }

  private close(): void {
    if (this.failed || this.restartAt >= 0) return;
    this.depth--;
    if (this.depth === 0) {
      this.handler.streamClose();
      return;
    }
    const e = this.stack.pop()!;
    if (this.stack.length > 0) return;
    this.checkSize();
    if (this.failed) return;
    this.mark = this.sax.position;
    this.handler.stanza(e);
  }

  private text(t: string): void {
    if (this.failed || this.restartAt >= 0) return;
    const parent = this.stack[this.stack.length - 1];
    if (parent) {
      const last = parent.children.length - 1;
      // saxes may split a text node; keep one string per run of characters
      if (last >= 0 && typeof parent.children[last] === "string") parent.children[last] += t;
      else parent.children.push(t);
    } else if (t.trim() !== "") {
      // character data between stanzas (RFC 6120 §4.7.5 allows only whitespace keepalives)
      this.fail("not-well-formed", "text outside of a stanza");
      return;
    }
    this.checkSize();
  }

  private checkSize(position = this.sax.position): void {
    if (this.failed) return;
    if (position - this.mark > this.limits.maxStanzaSize) {
      this.fail("policy-violation", `stanza larger than ${this.limits.maxStanzaSize} characters`);
    }
  }

  private fail(condition: XmlErrorCondition, text: string): void {
    if (this.failed) return;
    this.failed = true;
    this.handler.error(condition, text);
  }
}

function saxCondition(message: string): XmlErrorCondition {
  return /unbound namespace prefix/i.test(message) ? "bad-namespace-prefix" : "not-well-formed";
}

/** Unprefixed attributes and xml:* ones; namespace declarations and other prefixed ones are dropped. */
function plainAttrs(tag: SaxesTagNS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in tag.attributes) {
    const a = tag.attributes[key]!;
    if (a.prefix === "" && a.local !== "xmlns") out[a.local] = a.value;
    else if (a.prefix === "xml") out[a.name] = a.value;
  }
  return out;
}
