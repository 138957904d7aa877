/**
 * PUT/POST on a topic publish (EMQX's /ps/ convention, draft-ietf-core-coap-pubsub "publish"):
 * 2.04 Changed. `?qos=0|1|2` sets the QoS (default: 1 for a CON request, 0 for NON); `?retain=false`
 * publishes without keeping the value (default: kept, so GET reads it back). DELETE removes the
 * topic: observers get a final 4.04 and the last value is cleared. The answer to a publish that
 * must survive a crash (QoS 1/2 or retained) or to a delete of a kept value waits for the store
 * commit.
 */
import { createMessage, NO_PROPERTIES, type QoS } from "../../../core/message.js";
import { respondError } from "../body.js";
import { CON, Code } from "../codec/constants.js";
import type { CoapOption } from "../codec/message.js";
import { propertiesFor } from "../content-format.js";
import { etagOf } from "../etag.js";
import { queryValue } from "../request.js";
import type { RequestEnv } from "./env.js";

export function publishTopic(env: RequestEnv, topic: string): void {
  const { res, ex, principal, now } = env;
  const ctx = res.ctx;
  const req = ex.req;
  if (topic.startsWith("$") || !ctx.router.auth.authorize(principal, "publish", topic)) {
    respondError(ctx, ex, Code.Forbidden, "not authorized to publish on this topic");
    return;
  }
  const q = queryValue(req, "qos");
  let qos: QoS;
  if (q === undefined) qos = req.msg.type === CON ? 1 : 0;
  else if (q === "0" || q === "1" || q === "2") qos = Number(q) as QoS;
  else {
    respondError(ctx, ex, Code.BadRequest, "qos must be 0, 1 or 2");
    return;
  }
  const r = queryValue(req, "retain");
  const retain = r === undefined || r === "true" || r === "1";
  if (r !== undefined && !retain && r !== "false" && r !== "0") {
    respondError(ctx, ex, Code.BadRequest, "retain must be true or false");
    return;
  }
  // Conditional requests (RFC 7252 §5.10.8): If-Match against the current value's ETag,
  // If-None-Match only when there is no value yet.
  if (req.ifMatch !== undefined || req.ifNoneMatch) {
    const current = res.lastValue(topic);
    const fails = req.ifNoneMatch
      ? current !== undefined
      : current === undefined || !req.ifMatch!.some((t) => t.length === 0 || t.equals(etagOf(current)));
    if (fails) {
      respondError(ctx, ex, Code.PreconditionFailed, "precondition failed");
      return;
    }
  }
  const message = createMessage(
    topic,
    env.body,
    qos,
    retain,
    propertiesFor(req.contentFormat) ?? NO_PROPERTIES,
    env.clientId,
    now,
  );
  if (principal.username !== undefined) message.publisherUser = principal.username;
  ctx.router.stats.messagesReceived++;
  ctx.router.publish(message);
  const options = env.block1 !== undefined ? [env.block1] : [];
  if (qos === 0 && !retain) {
    ex.respond(Code.Changed, options);
    return;
  }
  // 2.04 promises the message is kept (queued for persistent subscribers, retained).
  respondAfterCommit(env, Code.Changed, options);
}

/**
 * Answers once the store has committed what the request changed, as MQTT's PUBACK waits (group
 * commit per tick); 5.00 if the commit fails.
 */
function respondAfterCommit(env: RequestEnv, code: number, options: CoapOption[]): void {
  const ctx = env.res.ctx;
  ctx.router.store.commit().then(
    () => env.ex.respond(code, options),
    (err: unknown) => {
      ctx.log.error("coap: store commit failed", { error: String(err) });
      respondError(ctx, env.ex, Code.InternalServerError, "store commit failed");
    },
  );
}

export function deleteTopic(env: RequestEnv, topic: string): void {
  const { res, ex, principal, now } = env;
  const ctx = res.ctx;
  if (topic.startsWith("$") || !ctx.router.auth.authorize(principal, "publish", topic)) {
    respondError(ctx, ex, Code.Forbidden, "not authorized to delete this topic");
    return;
  }
  const value = res.lastValue(topic);
  if (value === undefined && !res.topics.has(topic)) {
    respondError(ctx, ex, Code.NotFound, "no such topic");
    return;
  }
  res.topics.delete(topic);
  const gone = Buffer.from("topic deleted");
  for (const peer of res.peers()) {
    const obs = peer.observers?.get(topic);
    if (obs === undefined) continue;
    peer.notifyEnd(obs, Code.NotFound, gone);
    peer.removeObserver(obs);
  }
  // An empty retained message clears the last value for every protocol ([MQTT-3.3.1-10]).
  if (value === undefined) {
    ex.respond(Code.Deleted, []);
    return;
  }
  ctx.router.publish(createMessage(topic, Buffer.alloc(0), 0, true, NO_PROPERTIES, env.clientId, now));
  // 2.02 promises the value is gone, also after a restart.
  respondAfterCommit(env, Code.Deleted, []);
}
