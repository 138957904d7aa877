/** The SASL exchange on a stream (RFC 6120 §6.4): <auth/>, <challenge/>/<response/>, <success/>/<failure/>. */
import type { XmppConnection } from "../connection.js";
import type { XmppHub } from "../hub.js";
import { NS } from "../namespaces.js";
import type { Element } from "../xml/element.js";
import type { SaslFailure, SaslMechanism, SaslStep } from "./mechanism.js";

/** Failed attempts before the stream is closed (RFC 6120 §6.4.5 allows at least 2). */
const MAX_FAILURES = 3;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class SaslNegotiation {
  private mechanism: SaslMechanism | undefined;
  private busy = false;
  private failures = 0;

  constructor(
    private readonly conn: XmppConnection,
    private readonly hub: XmppHub,
  ) {}

  handle(e: Element): void {
    if (this.busy) return; // a step is being checked; the client must wait for our answer
    if (e.name === "auth") {
      const name = e.attr("mechanism") ?? "";
      const m = this.hub.mechanismNames(this.conn).includes(name)
        ? this.hub.mechanism(name, this.conn)
        : undefined;
      if (!m) return this.fail("invalid-mechanism");
      this.mechanism = m;
      this.conn.ephemeral = name === "ANONYMOUS";
      const data = decode(e.text());
      if (data === null) return this.fail("incorrect-encoding");
      this.run(m.start(data));
    } else if (e.name === "response") {
      if (!this.mechanism) return this.fail("malformed-request");
      const data = decode(e.text());
      if (data === null) return this.fail("incorrect-encoding");
      this.run(this.mechanism.step(data ?? Buffer.alloc(0)));
    } else if (e.name === "abort") {
      this.fail("aborted");
    } else {
      this.conn.streamError("unsupported-stanza-type", `<${e.name}/> in the SASL namespace`);
    }
  }

  private run(step: Promise<SaslStep>): void {
    this.busy = true;
    step.then(
      (s) => {
        this.busy = false;
        if (!this.conn.isOpen) return;
        if (s.kind === "challenge") {
          this.conn.write(`<challenge xmlns='${NS.sasl}'>${encode(s.data)}</challenge>`);
        } else if (s.kind === "failure") {
          this.fail(s.condition);
        } else {
          this.mechanism = undefined;
          const data = s.data ? encode(s.data) : "";
          this.conn.write(
            data ? `<success xmlns='${NS.sasl}'>${data}</success>` : `<success xmlns='${NS.sasl}'/>`,
          );
          this.conn.authenticated(s.principal);
        }
      },
      () => {
        this.busy = false;
        this.fail("temporary-auth-failure");
      },
    );
  }

  private fail(condition: SaslFailure): void {
    this.mechanism = undefined;
    this.conn.write(`<failure xmlns='${NS.sasl}'><${condition}/></failure>`);
    if (condition !== "aborted" && ++this.failures >= MAX_FAILURES) {
      this.conn.streamError("policy-violation", "too many failed authentication attempts");
    }
  }
}

/** "" = no data (undefined), "=" = empty data (RFC 6120 §6.4.2); null = not base64. */
function decode(text: string): Buffer | undefined | null {
  const t = text.trim();
  if (t === "") return undefined;
  if (t === "=") return Buffer.alloc(0);
  if (!BASE64.test(t) || t.length % 4 !== 0) return null;
  return Buffer.from(t, "base64");
}

function encode(data: Buffer): string {
  return data.length === 0 ? "=" : data.toString("base64");
}
