/**
 * Block1 reassembly of large PUT/POST bodies (RFC 7959 §2.3, §2.5): blocks arrive in order, each
 * answered with 2.31 Continue; the last one completes the request. The transfer is keyed by the
 * peer and the request URI (§2.4); a block out of order gets 4.08, a body over maxPayloadSize
 * 4.13 with Size1 (§2.9.3). A peer keeps a few transfers at once; the oldest gives way.
 */

import { respondError } from "./body.js";
import { blockSize, encodeBlock } from "./codec/block.js";
import { Code, Opt } from "./codec/constants.js";
import { type CoapOption, uintOption } from "./codec/message.js";
import type { CoapContext } from "./context.js";
import type { Exchange } from "./exchange.js";
import type { Block1State } from "./peer.js";

const MAX_TRANSFERS_PER_PEER = 4;

export type Block1Result =
  | { complete: true; payload: Buffer; option: CoapOption | undefined }
  | { complete: false };

export function receiveBlock1(ctx: CoapContext, ex: Exchange, now: number): Block1Result {
  const req = ex.req;
  const b = req.block1;
  const max = ctx.options.maxPayloadSize;
  if (b === undefined) {
    if (req.msg.payload.length > max) {
      tooLarge(ctx, ex);
      return { complete: false };
    }
    return { complete: true, payload: req.msg.payload, option: undefined };
  }
  const peer = ex.peer;
  const key = `${req.path.join("/")}?${req.query.join("&")}`;
  if (peer.block1 === undefined) peer.block1 = new Map();
  const transfers = peer.block1;
  const size = blockSize(b.szx);
  const offset = b.num * size;
  const payload = req.msg.payload;
  if (b.more && payload.length !== size) {
    respondError(ctx, ex, Code.BadRequest, "a block with more to follow must fill its block size");
    return { complete: false };
  }
  if ((req.size1 !== undefined && req.size1 > max) || offset + payload.length > max) {
    dropTransfer(ctx, transfers, key);
    tooLarge(ctx, ex);
    return { complete: false };
  }
  let state = transfers.get(key);
  // The same block again under a new message id (a client retrying on its own): answer it again.
  const repeated = state !== undefined && b.more && offset + payload.length === state.received && offset > 0;
  if (b.num === 0) {
    if (state === undefined && transfers.size >= MAX_TRANSFERS_PER_PEER) {
      dropTransfer(ctx, transfers, transfers.keys().next().value as string);
    }
    dropTransfer(ctx, transfers, key);
    state = { parts: [], received: 0, at: now };
    transfers.set(key, state);
  } else if (state === undefined || (state.received !== offset && !repeated)) {
    respondError(ctx, ex, Code.RequestEntityIncomplete, "block out of order or transfer unknown");
    return { complete: false };
  }
  // All uploads in progress together stay under a budget: past it, new data is refused for now.
  if (!repeated && ctx.usage.block1Bytes + payload.length > ctx.options.maxReassemblyBytes) {
    dropTransfer(ctx, transfers, key);
    respondError(ctx, ex, Code.ServiceUnavailable, "too many uploads in progress", [
      uintOption(Opt.MaxAge, 5),
    ]);
    return { complete: false };
  }
  if (repeated) {
    const szx = Math.min(b.szx, ctx.szx);
    const num = szx === b.szx ? b.num : state.received / blockSize(szx) - 1;
    ex.respond(Code.Continue, [uintOption(Opt.Block1, encodeBlock({ num, more: true, szx }))]);
    return { complete: false };
  }
  // The datagram buffer is the client's message alone, but copy: the transfer outlives it.
  state.parts.push(Buffer.from(payload));
  state.received += payload.length;
  ctx.usage.block1Bytes += payload.length;
  state.at = now;
  // The server's block size may be smaller than the client's (§2.3): the client adjusts.
  const szx = Math.min(b.szx, ctx.szx);
  if (b.more) {
    const num = szx === b.szx ? b.num : state.received / blockSize(szx) - 1;
    ex.respond(Code.Continue, [uintOption(Opt.Block1, encodeBlock({ num, more: true, szx }))]);
    return { complete: false };
  }
  dropTransfer(ctx, transfers, key);
  const option = uintOption(Opt.Block1, encodeBlock({ num: b.num, more: false, szx: b.szx }));
  return { complete: true, payload: Buffer.concat(state.parts, state.received), option };
}

function tooLarge(ctx: CoapContext, ex: Exchange): void {
  respondError(ctx, ex, Code.RequestEntityTooLarge, "request body too large", [
    uintOption(Opt.Size1, ctx.options.maxPayloadSize),
  ]);
}

function dropTransfer(ctx: CoapContext, transfers: Map<string, Block1State>, key: string): void {
  const t = transfers.get(key);
  if (t === undefined) return;
  ctx.usage.block1Bytes -= t.received;
  transfers.delete(key);
}

/** Drops transfers idle for longer than the exchange lifetime. */
export function expireBlock1(ctx: CoapContext, transfers: Map<string, Block1State>, now: number): void {
  for (const [key, t] of transfers)
    if (now - t.at > ctx.options.exchangeLifetimeMs) dropTransfer(ctx, transfers, key);
}
