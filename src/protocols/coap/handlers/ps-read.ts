/**
 * GET on a topic (draft-ietf-core-coap-pubsub "read" and "subscribe"): the last (retained) value;
 * with Observe 0 the client becomes an observer (RFC 7641 §3.1), with Observe 1 it stops (§3.6).
 */

import { remainingExpirySeconds } from "../../../core/message.js";
import { compileSelector } from "../../../core/selector/compile.js";
import { SelectorError } from "../../../core/selector/lexer.js";
import { respondBody, respondError } from "../body.js";
import { Code, Opt } from "../codec/constants.js";
import { type CoapOption, uintOption } from "../codec/message.js";
import { formatOf } from "../content-format.js";
import { etagOf } from "../etag.js";
import { queryValue } from "../request.js";
import type { RequestEnv } from "./env.js";

export function readTopic(env: RequestEnv, topic: string): void {
  const { res, ex, principal, now } = env;
  const ctx = res.ctx;
  const req = ex.req;
  if (!ctx.router.auth.authorize(principal, "subscribe", topic)) {
    respondError(ctx, ex, Code.Forbidden, "not authorized to read or observe this topic");
    return;
  }
  const firstBlock = req.block2 === undefined || req.block2.num === 0;
  // Blocks after the first of a large notification come from that notification (RFC 7959 §3.4),
  // which may not be the retained value (or there may be none).
  const notified = firstBlock ? undefined : ex.peer.observers?.get(topic)?.notified;
  const value = notified ?? res.lastValue(topic);
  const format = value !== undefined ? formatOf(value.properties) : res.topics.get(topic)?.contentFormat;
  if (req.accept !== undefined && format !== undefined && req.accept !== format) {
    respondError(ctx, ex, Code.NotAcceptable, `the value has content-format ${format}`);
    return;
  }
  const peer = ex.peer;
  let observeSeq: number | undefined;
  if (req.observe === 0 && firstBlock) {
    const qos = queryValue(req, "qos");
    const confirmable = qos === "1" || qos === "2" ? true : qos === "0" ? false : req.msg.type === 0;
    const szx = Math.min(req.block2?.szx ?? ctx.szx, ctx.szx);
    const selector = filterOf(req);
    if (selector instanceof SelectorError) {
      respondError(ctx, ex, Code.BadRequest, `filter: ${selector.message}`);
      return;
    }
    const obs = peer.addObserver(
      topic,
      req.msg.token,
      confirmable,
      szx,
      principal,
      env.clientId,
      now,
      selector,
    );
    // Without room for it the answer simply has no Observe option: not registered (RFC 7641 §4.1).
    if (obs !== undefined) observeSeq = obs.nextSeq();
  } else if (req.observe === 1) {
    const obs = peer.observers?.get(topic);
    if (obs?.token.equals(req.msg.token)) peer.removeObserver(obs);
  }
  const options: CoapOption[] = [];
  if (observeSeq !== undefined) options.push(uintOption(Opt.Observe, observeSeq));
  if (format !== undefined) options.push(uintOption(Opt.ContentFormat, format));
  if (value === undefined) {
    if (observeSeq !== undefined || res.topics.has(topic)) {
      // The topic exists (or is observed) but nothing was published yet: an empty representation.
      ex.respond(Code.Content, options);
      return;
    }
    respondError(ctx, ex, Code.NotFound, "no value published on this topic");
    return;
  }
  const etag = etagOf(value);
  options.push({ number: Opt.ETag, value: etag });
  const maxAge = remainingExpirySeconds(value, now);
  if (maxAge !== undefined) options.push(uintOption(Opt.MaxAge, maxAge));
  // RFC 7252 §5.10.6.2: the client's cached representation is still the current one.
  if (firstBlock && req.etags.some((t) => t.equals(etag))) {
    ex.respond(
      Code.Valid,
      options.filter((o) => o.number !== Opt.ContentFormat),
    );
    return;
  }
  respondBody(ctx, ex, Code.Content, options, value.payload);
}

/**
 * The `filter` query parameter of an Observe registration (docs/filters.md): a selector, percent-
 * decoded when it is valid percent-encoding (write `%` in a LIKE pattern as `%25`); checked now so a
 * bad one is answered 4.00. undefined: no filter.
 */
function filterOf(req: Parameters<typeof queryValue>[0]): string | SelectorError | undefined {
  let text = queryValue(req, "filter");
  if (text === undefined || text === "") return undefined;
  if (text.includes("%")) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // not percent-encoding: the text as it is
    }
  }
  try {
    compileSelector(text);
  } catch (err) {
    if (err instanceof SelectorError) return err;
    throw err;
  }
  return text;
}
