/**
 * The pub/sub collection /ps (draft-ietf-core-coap-pubsub §4): GET lists the topics in link
 * format (filtered as RFC 6690 §4.1, e.g. `?rt=core.ps.data`); POST with a link such as
 * `<sensors/t1>;ct=50` creates a topic: 2.01 Created with its Location-Path, 4.03 if it exists.
 */
import { respondBody, respondError } from "../body.js";
import { Code, Opt } from "../codec/constants.js";
import { stringOption, uintOption } from "../codec/message.js";
import { filterLinks, parseLinks, serializeLinks } from "../link-format.js";
import type { RequestEnv } from "./env.js";
import { filterQuery, topicLinks } from "./links.js";
import { topicOf } from "./topic-path.js";

const LINK_FORMAT = 40;
const MAX_CREATED_TOPICS = 100_000;
const MAX_LISTED_TOPICS = 10_000;

export function listTopics(env: RequestEnv): void {
  const { res, ex } = env;
  if (ex.req.accept !== undefined && ex.req.accept !== LINK_FORMAT) {
    respondError(res.ctx, ex, Code.NotAcceptable, "the topic list is application/link-format (40)");
    return;
  }
  const links = filterLinks(topicLinks(res, env.principal, MAX_LISTED_TOPICS), filterQuery(ex.req.query));
  const body = Buffer.from(serializeLinks(links), "utf8");
  respondBody(res.ctx, ex, Code.Content, [uintOption(Opt.ContentFormat, LINK_FORMAT)], body);
}

export function createTopic(env: RequestEnv): void {
  const { res, ex, principal } = env;
  const ctx = res.ctx;
  const req = ex.req;
  if (req.contentFormat !== undefined && req.contentFormat !== LINK_FORMAT) {
    respondError(ctx, ex, Code.UnsupportedContentFormat, "topic creation takes application/link-format (40)");
    return;
  }
  const links = parseLinks(env.body.toString("utf8"));
  if (links === undefined || links.length !== 1) {
    respondError(ctx, ex, Code.BadRequest, "expected one link, e.g. <sensors/t1>;ct=50");
    return;
  }
  const link = links[0]!;
  const href = link.href.replace(/^\/?ps\//, "").replace(/^\//, "");
  const t = topicOf(href.split("/"));
  if ("error" in t || href === "") {
    respondError(ctx, ex, Code.BadRequest, "error" in t ? t.error : "empty topic name");
    return;
  }
  const topic = t.topic;
  if (topic.startsWith("$") || !ctx.router.auth.authorize(principal, "publish", topic)) {
    respondError(ctx, ex, Code.Forbidden, "not authorized to create this topic");
    return;
  }
  if (res.topics.has(topic) || res.lastValue(topic) !== undefined) {
    respondError(ctx, ex, Code.Forbidden, "topic exists");
    return;
  }
  if (res.topics.size >= MAX_CREATED_TOPICS) {
    respondError(ctx, ex, Code.ServiceUnavailable, "too many topics");
    return;
  }
  const ctAttr = link.attrs.find(([k]) => k === "ct")?.[1];
  const ct = typeof ctAttr === "string" && /^\d+$/.test(ctAttr) ? Number(ctAttr) : undefined;
  res.topics.set(topic, { contentFormat: ct !== undefined && ct <= 0xffff ? ct : undefined });
  const options = ["ps", ...topic.split("/")].map((s) => stringOption(Opt.LocationPath, s));
  ex.respond(Code.Created, options);
}
