/** Routes a request to its resource by the first Uri-Path segment. */
import { respondError } from "../body.js";
import { Code } from "../codec/constants.js";
import type { RequestEnv } from "./env.js";
import { createTopic, listTopics } from "./ps-collection.js";
import { readTopic } from "./ps-read.js";
import { deleteTopic, publishTopic } from "./ps-write.js";
import { callProcedure } from "./rpc.js";
import { topicOf } from "./topic-path.js";
import { wellKnownCore } from "./well-known.js";

export function dispatch(env: RequestEnv): void {
  const { ex, res } = env;
  const path = ex.req.path;
  const method = ex.req.msg.code;
  const first = path[0];
  if (first === ".well-known" && path.length === 2 && path[1] === "core") {
    wellKnownCore(env);
    return;
  }
  if (first === "rpc") {
    callProcedure(env, path.slice(1));
    return;
  }
  if (first !== "ps") {
    respondError(res.ctx, ex, Code.NotFound, "no such resource; topics are under /ps/");
    return;
  }
  if (path.length === 1) {
    if (method === Code.GET) listTopics(env);
    else if (method === Code.POST) createTopic(env);
    else respondError(res.ctx, ex, Code.MethodNotAllowed, "GET or POST on /ps");
    return;
  }
  const t = topicOf(path, 1);
  if ("error" in t) {
    respondError(res.ctx, ex, Code.BadRequest, t.error);
    return;
  }
  switch (method) {
    case Code.GET:
      readTopic(env, t.topic);
      return;
    case Code.PUT:
    case Code.POST:
      publishTopic(env, t.topic);
      return;
    case Code.DELETE:
      deleteTopic(env, t.topic);
      return;
    default:
      respondError(res.ctx, ex, Code.MethodNotAllowed, "GET, PUT, POST or DELETE on a topic");
  }
}
