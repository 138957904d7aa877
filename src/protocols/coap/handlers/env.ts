/** What a resource handler gets for one request. */
import type { Principal } from "../../../core/auth.js";
import type { Message } from "../../../core/message.js";
import type { CoapOption } from "../codec/message.js";
import type { CoapContext } from "../context.js";
import type { Exchange } from "../exchange.js";
import type { Peer } from "../peer.js";

export interface TopicRecord {
  /** Content-Format given when the topic was created (draft-ietf-core-coap-pubsub §4.1). */
  contentFormat: number | undefined;
}

/** Adapter-wide state the handlers need beyond the context. */
export interface CoapResources {
  readonly ctx: CoapContext;
  /** Topics created with POST /ps and not yet deleted. */
  readonly topics: Map<string, TopicRecord>;
  /** Every peer with state (to end observations of a deleted topic). */
  peers(): Iterable<Peer>;
  /** The last (retained) value of a topic, if any. */
  lastValue(topic: string): Message | undefined;
}

export interface RequestEnv {
  readonly res: CoapResources;
  readonly ex: Exchange;
  readonly principal: Principal;
  readonly clientId: string;
  /** The request body, reassembled when it came block-wise. */
  readonly body: Buffer;
  /** The Block1 option to echo in the final response (RFC 7959 §2.3). */
  readonly block1: CoapOption | undefined;
  readonly now: number;
}
