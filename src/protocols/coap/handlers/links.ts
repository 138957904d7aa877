/** The link lists of /ps (topic discovery) and /.well-known/core (RFC 6690). */
import type { Principal } from "../../../core/auth.js";
import { formatOf } from "../content-format.js";
import type { Link } from "../link-format.js";
import type { CoapResources } from "./env.js";
import { pathOf } from "./topic-path.js";

/** Query parameters this server reads itself; they do not filter links. */
const OWN_PARAMETERS = ["clientid=", "username=", "password=", "qos=", "retain="];

export function filterQuery(query: readonly string[]): string[] {
  return query.filter((q) => !OWN_PARAMETERS.some((p) => q.startsWith(p)));
}

/** Topics with a value or created with POST /ps, that `principal` may read. */
export function topicLinks(res: CoapResources, principal: Principal, limit: number): Link[] {
  const seen = new Map<string, number | undefined>();
  for (const [topic, rec] of res.topics) seen.set(topic, rec.contentFormat);
  res.ctx.router.retainedMatching("#", (m) => {
    if (seen.size < limit) seen.set(m.topic, formatOf(m.properties));
  });
  const auth = res.ctx.router.auth;
  const links: Link[] = [];
  for (const [topic, ct] of seen) {
    if (!auth.authorize(principal, "subscribe", topic)) continue;
    const attrs: Link["attrs"] = [
      ["rt", "core.ps.data"],
      ["obs", true],
    ];
    if (ct !== undefined) attrs.push(["ct", ct]);
    links.push({ href: pathOf(topic), attrs });
  }
  return links;
}

export const COLLECTION_LINK: Link = {
  href: "/ps",
  attrs: [
    ["rt", "core.ps"],
    ["ct", 40],
  ],
};
export const RPC_LINK: Link = {
  href: "/rpc",
  attrs: [
    ["rt", "core.rpc"],
    ["title", "POST /rpc/<procedure>"],
  ],
};
