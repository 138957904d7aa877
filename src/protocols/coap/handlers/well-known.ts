/** GET /.well-known/core (RFC 6690 §4): the resources of this server, filterable by href/rt/if/ct. */
import { respondBody, respondError } from "../body.js";
import { Code, Opt } from "../codec/constants.js";
import { uintOption } from "../codec/message.js";
import { filterLinks, serializeLinks } from "../link-format.js";
import type { RequestEnv } from "./env.js";
import { COLLECTION_LINK, filterQuery, RPC_LINK, topicLinks } from "./links.js";

const LINK_FORMAT = 40;
const MAX_LISTED_TOPICS = 10_000;

export function wellKnownCore(env: RequestEnv): void {
  const { res, ex } = env;
  if (ex.req.msg.code !== Code.GET) {
    respondError(res.ctx, ex, Code.MethodNotAllowed, "GET only");
    return;
  }
  if (ex.req.accept !== undefined && ex.req.accept !== LINK_FORMAT) {
    respondError(res.ctx, ex, Code.NotAcceptable, "application/link-format (40) only");
    return;
  }
  const all = [COLLECTION_LINK, RPC_LINK, ...topicLinks(res, env.principal, MAX_LISTED_TOPICS)];
  const links = filterLinks(all, filterQuery(ex.req.query));
  // RFC 6690 §4.1: a filter that matches nothing on a multicast request gets no answer.
  if (ex.multicast && links.length === 0) {
    ex.respond(Code.NotFound, []);
    return;
  }
  const body = Buffer.from(serializeLinks(links), "utf8");
  respondBody(res.ctx, ex, Code.Content, [uintOption(Opt.ContentFormat, LINK_FORMAT)], body);
}
