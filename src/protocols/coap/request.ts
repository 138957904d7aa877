/**
 * Reads the options of a request into a Request (RFC 7252 §5.4): unknown critical options, a
 * repeated non-repeatable critical option or a critical option of a wrong length make the
 * request fail with 4.02 Bad Option (§5.4.1, §5.4.3, §5.4.5); elective ones are ignored.
 */
import { type BlockValue, decodeBlock } from "./codec/block.js";
import { isCritical, OPTION_DEFS, Opt } from "./codec/constants.js";
import { type CoapMessage, readUint } from "./codec/message.js";

export interface Request {
  msg: CoapMessage;
  path: string[];
  query: string[];
  observe?: number;
  contentFormat?: number;
  accept?: number;
  block1?: BlockValue;
  block2?: BlockValue;
  size1?: number;
  etags: Buffer[];
  ifMatch?: Buffer[];
  ifNoneMatch: boolean;
  proxy: boolean;
}

export type ParseResult = { ok: true; req: Request } | { ok: false; error: string };

export function parseRequest(msg: CoapMessage): ParseResult {
  const req: Request = { msg, path: [], query: [], etags: [], ifNoneMatch: false, proxy: false };
  let prev = -1;
  for (const o of msg.options) {
    const n = o.number;
    const d = OPTION_DEFS.get(n);
    if (d === undefined) {
      if (isCritical(n)) return { ok: false, error: `unrecognized critical option ${n}` };
      continue;
    }
    const len = o.value.length;
    if (len < d.min || len > d.max) {
      // §5.4.3: a value of the wrong length is treated like an unrecognized option.
      if (isCritical(n)) return { ok: false, error: `option ${n} has a length of ${len}` };
      prev = n;
      continue;
    }
    if (n === prev && !d.repeatable) {
      // §5.4.5: a repeated non-repeatable critical option is unrecognized; elective: ignore repeats.
      if (isCritical(n)) return { ok: false, error: `option ${n} must not be repeated` };
      continue;
    }
    prev = n;
    switch (n) {
      case Opt.UriPath:
        req.path.push(o.value.toString()); // UTF-8; without arguments toString skips the encoding lookup
        break;
      case Opt.UriQuery:
        req.query.push(o.value.toString());
        break;
      case Opt.Observe:
        req.observe = readUint(o.value);
        break;
      case Opt.ContentFormat:
        req.contentFormat = readUint(o.value);
        break;
      case Opt.Accept:
        req.accept = readUint(o.value);
        break;
      case Opt.Block1:
      case Opt.Block2: {
        const b = decodeBlock(readUint(o.value));
        if (b === undefined) return { ok: false, error: `option ${n} uses the reserved SZX 7` };
        if (n === Opt.Block1) req.block1 = b;
        else req.block2 = b;
        break;
      }
      case Opt.Size1:
        req.size1 = readUint(o.value);
        break;
      case Opt.ETag:
        req.etags.push(o.value);
        break;
      case Opt.IfMatch:
        if (req.ifMatch === undefined) req.ifMatch = [];
        req.ifMatch.push(o.value);
        break;
      case Opt.IfNoneMatch:
        req.ifNoneMatch = true;
        break;
      case Opt.ProxyUri:
      case Opt.ProxyScheme:
        req.proxy = true;
        break;
      default:
        // Uri-Host, Uri-Port: this server answers for any host name it is reached by (§6.4).
        break;
    }
  }
  return { ok: true, req };
}

/** The value of `name=value` among the Uri-Query options, or undefined. */
export function queryValue(req: Request, name: string): string | undefined {
  for (const q of req.query) {
    if (q.length > name.length && q.charCodeAt(name.length) === 61 /* = */ && q.startsWith(name)) {
      return q.slice(name.length + 1);
    }
    if (q === name) return "";
  }
  return undefined;
}
