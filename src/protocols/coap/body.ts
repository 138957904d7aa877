/**
 * Answers with a representation, block-wise when it is larger than one block (RFC 7959 §2.4) or
 * when the client asked for a block. Responses to a source that has not shown it receives at its
 * address are cut to blocks no larger than amplificationFactor times the request (RFC 7252
 * §11.3) — unless the source proves it receives at its address first: it is pinged, and the
 * answer waits for its RST (one round trip, once per peer) or for `verifyWaitMs`.
 */
import { blockSize, encodeBlock, szxFor } from "./codec/block.js";
import { Code, Opt } from "./codec/constants.js";
import { optionsSize } from "./codec/encode.js";
import { type CoapOption, uintOption } from "./codec/message.js";
import type { CoapContext } from "./context.js";
import type { Exchange } from "./exchange.js";

/** Bytes of header, token, Block2, Size2 and payload marker beyond the other options. */
const BLOCK_OVERHEAD = 4 + 8 + 4 + 5 + 1;

export function respondBody(
  ctx: CoapContext,
  ex: Exchange,
  code: number,
  options: CoapOption[],
  body: Buffer,
  verifiedOrWaited = false,
): void {
  const req = ex.req;
  let szx = ctx.szx;
  if (req.block2 !== undefined && req.block2.szx < szx) szx = req.block2.szx;
  const limit = amplificationLimit(ctx, ex);
  let forced = false;
  if (limit !== undefined) {
    const room = limit - BLOCK_OVERHEAD - req.msg.token.length - optionsSize(0, options);
    const wouldSend = Math.min(
      body.length - (req.block2 ? req.block2.num * blockSize(req.block2.szx) : 0),
      blockSize(szx),
    );
    if (wouldSend > room) {
      if (!verifiedOrWaited && !ex.multicast) {
        // Ask the source to prove its address first (one round trip, once per peer); a CON
        // request is still answered piggybacked when the proof comes within the ACK delay.
        ex.deferred();
        ex.peer.verify(ctx.options.verifyWaitMs, () => respondBody(ctx, ex, code, options, body, true));
        return;
      }
      const fit = szxFor(room);
      if (fit < szx) {
        szx = fit;
        forced = true;
      }
    }
  }
  const size = blockSize(szx);
  if (req.block2 === undefined && body.length <= size && !forced) {
    ex.respond(code, options, body);
    return;
  }
  // The client's block number counts in its block size (RFC 7959 §2.4 when the server's is smaller).
  const offset = req.block2 === undefined ? 0 : req.block2.num * blockSize(req.block2.szx);
  if (offset > 0 && offset >= body.length) {
    ex.respond(Code.BadOption, [], Buffer.from("block number beyond the end of the representation"));
    return;
  }
  const end = Math.min(body.length, offset + size);
  options.push(uintOption(Opt.Block2, encodeBlock({ num: offset / size, more: end < body.length, szx })));
  if (offset === 0) options.push(uintOption(Opt.Size2, body.length));
  ex.respond(code, options, body.subarray(offset, end));
}

/** Largest response for this exchange, or undefined when there is no limit. */
export function amplificationLimit(ctx: CoapContext, ex: Exchange): number | undefined {
  const f = ctx.options.amplificationFactor;
  if (f <= 0 || ex.peer.verified) return undefined;
  return f * ex.requestSize;
}

/** A diagnostic payload (RFC 7252 §5.5.2), shortened to the amplification limit. */
export function respondError(
  ctx: CoapContext,
  ex: Exchange,
  code: number,
  diagnostic: string,
  options: CoapOption[] = [],
): void {
  let text = Buffer.from(diagnostic, "utf8");
  const limit = amplificationLimit(ctx, ex);
  if (limit !== undefined) {
    const room = limit - 5 - ex.req.msg.token.length - optionsSize(0, options);
    if (text.length > room) text = text.subarray(0, Math.max(0, room));
  }
  ex.respond(code, options, text);
}
