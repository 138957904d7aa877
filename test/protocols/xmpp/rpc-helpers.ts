/**
 * An XMPP RPC caller for tests (docs/rpc.md "XMPP"): sends `<iq type='set'><call xmlns=
 * 'urn:switchboard:rpc'/>` with @xmpp/client and reads the answer back by the documented rules,
 * written here independently of src/protocols/xmpp/rpc/payload.ts so that a test checks the docs.
 */
import { type XmlElement, type XmppTestClient, xml } from "./helpers.js";

export const RPC_NS = "urn:switchboard:rpc";
const STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas";

export interface RpcArgs {
  args?: unknown[];
  kwargs?: Record<string, unknown>;
}

export interface XmppRpcAnswer extends RpcArgs {
  type: "result" | "error";
  /** Error answers: the RFC 6120 condition, its type, the text and the rpc `<error uri>`. */
  condition?: string;
  errorType?: string;
  text?: string;
  uri?: string;
}

/** The arguments an rpc `<result/>` or `<error/>` carries. */
export function readRpcPayload(e: XmlElement): RpcArgs {
  const text: string = e.text();
  if (e.attrs.encoding === "base64") return { args: [Buffer.from(text, "base64")] };
  if (e.attrs["content-type"] === "application/x-wamp+json") {
    const [args, kwargs] = JSON.parse(text) as [unknown[], Record<string, unknown>];
    return Object.keys(kwargs).length ? { args, kwargs } : { args };
  }
  if (text === "") return {};
  return { args: [JSON.parse(text)] };
}

let seq = 0;

/**
 * Calls `procedure` (undefined: leaves the attribute out) with `body` as the `<call/>` text and
 * `attrs` (content-type, encoding) on it; resolves with the answer.
 */
export async function xmppCall(
  c: XmppTestClient,
  procedure: string | undefined,
  body = "",
  attrs: Record<string, string> = {},
  opts: { to?: string; ms?: number } = {},
): Promise<XmppRpcAnswer> {
  const id = `rpc-${++seq}`;
  const callAttrs: Record<string, string> = { xmlns: RPC_NS, ...attrs };
  if (procedure !== undefined) callAttrs.procedure = procedure;
  const answer = c.waitFor(
    (s) => s.is("iq") && s.attrs.id === id && (s.attrs.type === "result" || s.attrs.type === "error"),
    opts.ms ?? 5000,
  );
  await c.xmpp.send(xml("iq", { type: "set", id, to: opts.to ?? "localhost" }, xml("call", callAttrs, body)));
  const s = await answer;
  if (s.attrs.type === "result") {
    const r = s.getChild("result", RPC_NS);
    if (!r) throw new Error(`result without <result xmlns='${RPC_NS}'>: ${s.toString()}`);
    return { type: "result", ...readRpcPayload(r) };
  }
  const error = s.getChild("error");
  const cond = error.children.find(
    (ch: XmlElement) => typeof ch !== "string" && ch.attrs.xmlns === STANZAS_NS && ch.name !== "text",
  );
  const app = error.getChild("error", RPC_NS);
  return {
    type: "error",
    condition: cond?.name,
    errorType: error.attrs.type,
    text: error.getChildText("text", STANZAS_NS) ?? undefined,
    uri: app?.attrs.uri,
    ...(app ? readRpcPayload(app) : {}),
  };
}
