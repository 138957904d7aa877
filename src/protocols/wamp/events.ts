/**
 * EVENT messages from core messages. What is the same for every receiver of one publication — its
 * id, its URI, its decoded arguments, the publisher's disclosed identity — is worked out once per
 * message; the encoded EVENT is shared by every session with the same serializer and subscription
 * (DESIGN.md hot-path rules: encode once per (protocol, variant)).
 */
import type { RpcPayload } from "../../core/dealer/index.js";
import type { Message } from "../../core/message.js";
import { type Dict, MessageType } from "./codec/messages.js";
import type { Serializer } from "./codec/serializers.js";
import { topicToUri } from "./codec/uri.js";
import { decodePayload } from "./payload.js";
import type { WampSubscription } from "./subscriptions.js";

export interface PublisherIdentity {
  publisher: number;
  publisher_authid: string;
  publisher_authrole: string;
}

export interface EventInfo {
  /** Publication id: random, global scope (WAMP §2.1.2). */
  readonly publication: number;
  /** The topic as a WAMP URI. */
  readonly uri: string;
  payload: RpcPayload | undefined;
  publisher: PublisherIdentity | undefined;
  /** The first encoded EVENT and its key (subscription, serializer, retained): often the only one. */
  frameKey: number;
  frame: Buffer | undefined;
  /** Encoded EVENTs for further keys. */
  frames: Map<number, Buffer> | undefined;
}

export function newPublicationId(): number {
  return Math.floor(Math.random() * 2 ** 53) + 1;
}

/** Attaches what a WAMP publisher already knows (its arguments as values, its identity). */
export function setEventInfo(
  m: Message,
  payload: RpcPayload,
  publisher: PublisherIdentity | undefined,
  /** The topic as the publisher wrote it (saves converting the canonical topic back). */
  uri: string = topicToUri(m.topic),
): EventInfo {
  return attach(m, payload, publisher, uri);
}

/** The message's EventInfo, made on first use for a message from another protocol. */
export function eventInfo(m: Message): EventInfo {
  return (m.wampEvent as EventInfo | undefined) ?? attach(m, undefined, undefined, topicToUri(m.topic));
}

function attach(
  m: Message,
  payload: RpcPayload | undefined,
  publisher: PublisherIdentity | undefined,
  uri: string,
): EventInfo {
  const info: EventInfo = {
    publication: newPublicationId(),
    uri,
    payload,
    publisher,
    frameKey: -1,
    frame: undefined,
    frames: undefined,
  };
  m.wampEvent = info;
  return info;
}

export function eventPayload(info: EventInfo, m: Message): RpcPayload {
  info.payload ??= decodePayload(m);
  return info.payload;
}

const SERIALIZER_INDEX: Record<string, number> = { json: 0, msgpack: 1, cbor: 2 };

/** The EVENT for `sub` in `serializer`, encoded once per message and kept for the next receiver. */
export function encodeEvent(
  m: Message,
  info: EventInfo,
  sub: WampSubscription,
  serializer: Serializer,
  retained: boolean,
): Buffer {
  const key = sub.id * 8 + SERIALIZER_INDEX[serializer.name]! * 2 + (retained ? 1 : 0);
  if (info.frameKey === key) return info.frame!;
  const hit = info.frames?.get(key);
  if (hit !== undefined) return hit;
  const details: Dict = {};
  if (sub.match !== "exact") details.topic = info.uri;
  if (info.publisher !== undefined) Object.assign(details, info.publisher);
  if (retained) details.retained = true;
  const p = eventPayload(info, m);
  const msg: unknown[] = [MessageType.EVENT, sub.id, info.publication, details];
  if (p.kwargs !== undefined) msg.push(p.args ?? [], p.kwargs);
  else if (p.args !== undefined) msg.push(p.args);
  const bytes = serializer.encode(msg);
  if (info.frame === undefined) {
    info.frameKey = key;
    info.frame = bytes;
  } else {
    info.frames ??= new Map();
    info.frames.set(key, bytes);
  }
  return bytes;
}
