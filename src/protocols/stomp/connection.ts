/**
 * One STOMP network connection: the state machine that maps frames to core calls. The frame
 * handlers live in handlers/ (one per client frame type); MESSAGE encoding in outgoing.ts.
 */

import { randomBytes } from "node:crypto";
import type { Principal } from "../../core/auth.js";
import type { Logger } from "../../core/logger.js";
import { isExpired, type Message, type QoS } from "../../core/message.js";
import type { Router } from "../../core/router.js";
import type { RpcBridge } from "../../core/rpc-bridge.js";
import type {
  CloseReason,
  ConnectionInfo,
  Session,
  SessionConnection,
  Subscription,
} from "../../core/session.js";
import type { ByteStream, TransportInfo } from "../../transports/types.js";
import {
  encodeFrame,
  type Header,
  header,
  StompCodecError,
  StompDecoder,
  type StompFrame,
  type StompVersion,
} from "./codec/index.js";
import type { DurableSubscriptions } from "./durable.js";
import { StompFrameError } from "./errors.js";
import { handleAck } from "./handlers/ack.js";
import { handleConnect } from "./handlers/connect.js";
import { handleDisconnect } from "./handlers/disconnect.js";
import { handleSend } from "./handlers/send.js";
import { handleSubscribe } from "./handlers/subscribe.js";
import { bufferInTransaction, handleAbort, handleBegin, handleCommit } from "./handlers/transaction.js";
import { closeSubscription, handleUnsubscribe } from "./handlers/unsubscribe.js";
import type { StompOptions } from "./options.js";
import { sendTopicMessage } from "./outgoing.js";
import { listenTo } from "./stream-events.js";
import type { StompSubscription } from "./subscription.js";

type State = "awaiting-connect" | "connecting" | "connected" | "closed";

/** Above this many unsent bytes queue consumers are paused until the socket drains (backpressure). */
const CONSUMER_HIGH_WATER = 256 * 1024;

/** What every connection of one adapter shares. */
export interface StompContext {
  readonly router: Router;
  readonly options: StompOptions;
  readonly log: Logger;
  readonly durable: DurableSubscriptions;
}

export class StompConnection implements SessionConnection {
  state: State = "awaiting-connect";
  version: StompVersion = "1.0";
  /** The `session` header of CONNECTED; also the router session's client id and queue owner. */
  readonly id: string;
  session: Session | undefined;
  principal: Principal | undefined;
  /** `client-id` header (ActiveMQ), or the login: names durable subscriptions. */
  clientName = "";
  readonly info: ConnectionInfo;
  readonly decoder: StompDecoder;
  readonly router: Router;
  readonly options: StompOptions;
  readonly log: Logger;
  readonly durable: DurableSubscriptions;
  // The collections are created on first use: many connections only publish, and an empty Map
  // still costs ~180 bytes (an idle connection's memory is a benchmark figure).
  private subsById: Map<string, StompSubscription> | undefined;
  private subsByNumber: Map<number, StompSubscription> | undefined;
  private subsByFilter: Map<string, StompSubscription[]> | undefined;
  private txs: Map<string, StompFrame[]> | undefined;
  private temps: Map<string, string> | undefined;

  /** By subscription id. */
  get subscriptions(): Map<string, StompSubscription> {
    this.subsById ??= new Map();
    return this.subsById;
  }

  /** By subscription number (the first part of an ack id). */
  get subscriptionsByNumber(): Map<number, StompSubscription> {
    this.subsByNumber ??= new Map();
    return this.subsByNumber;
  }

  /** Router filter -> the subscriptions fed by it (several SUBSCRIBEs may share a destination). */
  get topicSubscriptions(): Map<string, StompSubscription[]> {
    this.subsByFilter ??= new Map();
    return this.subsByFilter;
  }

  /** Open transactions: the frames they hold, in order. */
  get transactions(): Map<string, StompFrame[]> {
    this.txs ??= new Map();
    return this.txs;
  }

  /** `/temp-queue/x` -> reply id. */
  get tempQueues(): Map<string, string> {
    this.temps ??= new Map();
    return this.temps;
  }
  nextSubscriptionNumber = 0;
  /** This connection as an RPC caller (rpc.ts), from its first call. */
  rpc: RpcBridge | undefined;
  /** Set once this connection declared an exclusive queue (ownerGone walks every queue). */
  ownsQueues = false;
  private messageCounter = 0;
  private backlog: StompFrame[] | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private flowTimer: NodeJS.Timeout | undefined;
  private corked = false;
  private wroteSinceBeat = false;
  private consumersPaused = false;
  private receipts: Array<string | (() => void)> = [];
  private commitScheduled = false;

  constructor(
    ctx: StompContext,
    readonly stream: ByteStream,
    readonly transport: TransportInfo,
    /** The WebSocket subprotocol (v10.stomp ...), "" for TCP / TLS. */
    readonly wsProtocol: string,
    private readonly onClosed: (c: StompConnection) => void,
  ) {
    this.router = ctx.router;
    this.options = ctx.options;
    this.log = ctx.log;
    this.durable = ctx.durable;
    this.id = `stomp-${randomBytes(9).toString("base64url")}`;
    const o = ctx.options;
    this.decoder = new StompDecoder({
      maxFrameSize: o.maxFrameSize,
      maxHeaders: o.maxHeaders,
      maxHeaderLength: o.maxHeaderLength,
    });
    this.info = {
      protocol: "stomp",
      protocolVersion: "",
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      transport: transport.kind,
      connectedAt: Date.now(),
    };
    this.connectTimer = setTimeout(onConnectTimeout, o.connectTimeoutMs, this);
    listenTo(stream, this);
  }

  // ---- input ----------------------------------------------------------------------------------

  /** @internal Called by the shared 'data' listener. */
  onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.router.stats.bytesReceived += chunk.length;
    // Any bytes count as a heart-beat (STOMP 1.2 §"Heart-beating").
    this.readTimer?.refresh();
    this.cork();
    try {
      this.decoder.push(chunk, (f) => this.onFrame(f));
    } catch (err) {
      if (err instanceof StompCodecError) this.fail(`malformed frame (${err.code})`, err.message);
      else this.internalError(err);
    }
  }

  private onFrame(f: StompFrame): void {
    if (this.state === "closed") return;
    if (this.backlog) {
      // Frames may follow CONNECT before authentication ends; they run once it has.
      this.backlog.push(f);
      return;
    }
    if (this.state === "awaiting-connect") {
      if (f.command !== "CONNECT" && f.command !== "STOMP") {
        this.fail("expected CONNECT", `the first frame must be CONNECT or STOMP, not ${f.command}`);
        return;
      }
      this.state = "connecting";
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.backlog = [];
      handleConnect(this, f).catch((err) => this.onHandlerError(err, f));
      return;
    }
    this.dispatch(f);
  }

  /** Called by the CONNECT handler once CONNECTED went out: runs what arrived meanwhile. */
  connectDone(): void {
    const queued = this.backlog;
    this.backlog = undefined;
    if (!queued) return;
    this.cork();
    for (const f of queued) {
      if (this.state !== "connected") break;
      this.dispatch(f);
    }
  }

  /** Runs one frame of a connected client. Also used by COMMIT for the frames of a transaction. */
  dispatch(f: StompFrame, inTransaction = false): void {
    if (this.state !== "connected") return;
    try {
      if (!inTransaction && bufferInTransaction(this, f)) {
        this.receiptFor(f);
        return;
      }
      this.run(f);
      if (!inTransaction && f.command !== "DISCONNECT") this.receiptFor(f);
    } catch (err) {
      this.onHandlerError(err, f);
    }
  }

  private run(f: StompFrame): void {
    switch (f.command) {
      case "SEND":
        this.router.stats.messagesReceived++;
        if (this.session) this.session.messagesIn++;
        handleSend(this, f);
        return;
      case "SUBSCRIBE":
        handleSubscribe(this, f);
        return;
      case "UNSUBSCRIBE":
        handleUnsubscribe(this, f);
        return;
      case "ACK":
        handleAck(this, f, "ack");
        return;
      case "NACK":
        if (this.version === "1.0") throw unknownCommand(f.command, this.version);
        handleAck(this, f, "nack");
        return;
      case "BEGIN":
        handleBegin(this, f);
        return;
      case "COMMIT":
        handleCommit(this, f);
        return;
      case "ABORT":
        handleAbort(this, f);
        return;
      case "DISCONNECT":
        handleDisconnect(this, f);
        return;
      case "CONNECT":
      case "STOMP":
        throw new StompFrameError("already connected", `a second ${f.command} frame on one connection`);
      default:
        throw unknownCommand(f.command, this.version);
    }
  }

  private onHandlerError(err: unknown, f: StompFrame): void {
    if (err instanceof StompFrameError) this.fail(err.summary, err.detail, header(f, "receipt"));
    else this.internalError(err);
  }

  private internalError(err: unknown): void {
    this.log.error("stomp: internal error", {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    this.fail("internal error", "the broker failed to process the frame");
  }

  // ---- output ---------------------------------------------------------------------------------

  /** Corks the stream until the end of this tick so all frames of the tick go out in one write. */
  cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    process.nextTick(uncork, this);
  }

  /** @internal */
  uncorkNow(): void {
    this.corked = false;
    this.stream.uncork();
  }

  write(buf: Buffer): void {
    if (this.state === "closed") return;
    this.cork();
    this.wroteSinceBeat = true;
    this.router.stats.bytesSent += buf.length;
    this.stream.write(buf);
    if (!this.consumersPaused && this.stream.writableLength > CONSUMER_HIGH_WATER)
      this.setConsumerFlow(false);
  }

  sendFrame(command: string, headers: Header[], body?: Buffer | string): void {
    this.write(encodeFrame(command, headers, this.version, body));
  }

  /**
   * Answers the frame's `receipt` header. The RECEIPT goes out after the store has committed what
   * the frame changed (a persistent message, an ack), and receipts keep their order.
   */
  receiptFor(f: StompFrame, then?: () => void): void {
    const id = header(f, "receipt");
    if (id === undefined && !then) return;
    if (id !== undefined) this.receipts.push(id);
    if (then) this.receipts.push(then);
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    this.router.store.commit().then(
      () => this.flushReceipts(),
      (err: unknown) => {
        this.log.error("stomp: store commit failed; closing without a receipt", { error: String(err) });
        this.receipts = [];
        this.fail("store failure", "the broker could not store the frame's effects");
      },
    );
  }

  private flushReceipts(): void {
    this.commitScheduled = false;
    const list = this.receipts;
    this.receipts = [];
    for (const r of list) {
      if (typeof r === "function") r();
      else this.sendFrame("RECEIPT", [["receipt-id", r]]);
    }
  }

  /** The `message-id` of the next MESSAGE that needs no ack. */
  nextMessageId(): number {
    return ++this.messageCounter;
  }

  private setConsumerFlow(flowing: boolean): void {
    this.consumersPaused = !flowing;
    if (this.subsById) for (const sub of this.subsById.values()) sub.consumer?.setFlow(flowing);
  }

  /** @internal The socket drained: paused consumers may send again. */
  onDrain(): void {
    if (this.consumersPaused && this.state === "connected") this.setConsumerFlow(true);
  }

  /**
   * Publisher flow control: the queue this connection publishes into holds more than
   * queueFlowLimit ready messages, so the connection is not read until it is below half of that.
   */
  throttle(queueName: string): void {
    if (this.flowTimer || this.state === "closed") return;
    this.stream.pause();
    this.flowTimer = setInterval(() => {
      const q = this.router.queues.find(queueName);
      if (q && !q.isDeleted && q.messageCount > this.options.queueFlowLimit / 2) return;
      clearInterval(this.flowTimer);
      this.flowTimer = undefined;
      if (this.state !== "closed") this.stream.resume();
    }, 20);
  }

  // ---- SessionConnection ----------------------------------------------------------------------

  /** From the router: a message on a topic one or more of this connection's subscriptions match. */
  deliver(message: Message, _qos: QoS, _retain: boolean, sub: Subscription | undefined): void {
    if (this.state !== "connected" || !sub) return;
    const subs = this.subsByFilter?.get(sub.filter);
    if (!subs) return;
    if (isExpired(message, Date.now())) return;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (s.readChecked && !this.router.auth.authorize(this.principal!, "subscribe", message.topic)) continue;
      if (s.selector !== undefined && !this.router.selectors.selects(s.selector, message)) continue;
      if (s.feedQueue) s.feedQueue.publish(message, { persistent: false });
      else sendTopicMessage(this, s, message);
    }
  }

  drain(): void {}

  close(reason: CloseReason): void {
    if (this.state === "closed") return;
    if (this.state === "connected") {
      const text = reason === "shutdown" ? "the broker is shutting down" : `connection closed (${reason})`;
      this.sendFrame(
        "ERROR",
        [
          ["message", text],
          ["content-type", "text/plain"],
        ],
        text,
      );
    }
    this.end();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Sends ERROR (with `receipt-id` when the failing frame asked for a receipt) and closes. */
  fail(summary: string, detail: string, receiptId?: string): void {
    if (this.state === "closed") return;
    this.log.debug("stomp: error, closing", { summary, detail, session: this.id });
    const headers: Header[] = [["message", summary]];
    if (receiptId !== undefined) headers.push(["receipt-id", receiptId]);
    headers.push(["content-type", "text/plain"]);
    this.sendFrame("ERROR", headers, `${detail}\n`);
    this.end();
  }

  /** Starts heart-beating in both directions with the negotiated intervals (0 = none). */
  startHeartbeats(sendEveryMs: number, expectEveryMs: number): void {
    if (sendEveryMs > 0) {
      // Checked twice per interval: a beat is skipped when something else went out since the last
      // check, so the longest silence stays under one interval (a client allows it some tolerance).
      this.sendTimer = setInterval(onSendBeat, Math.max(1, Math.floor(sendEveryMs / 2)), this);
    }
    if (expectEveryMs > 0) {
      // Tolerance for network and scheduling delays (1.2 §"Heart-beating"): two intervals.
      this.readTimer = setTimeout(onReadTimeout, expectEveryMs * 2, this, expectEveryMs);
    }
  }

  /** @internal */
  beat(): void {
    if (!this.wroteSinceBeat && this.state === "connected") {
      this.router.stats.bytesSent += 1;
      this.stream.write(EOL);
    }
    this.wroteSinceBeat = false;
  }

  /** Graceful close: flush what was written, then close. */
  end(): void {
    if (this.state === "closed") return;
    this.finish();
    this.stream.end();
    this.endTimer = setTimeout(destroyStream, 2000, this.stream);
    this.endTimer.unref();
  }

  destroy(): void {
    if (this.state !== "closed") this.finish();
    this.stream.destroy();
  }

  private finish(): void {
    const wasConnected = this.state === "connected";
    this.state = "closed";
    clearTimeout(this.connectTimer);
    clearTimeout(this.readTimer);
    clearInterval(this.sendTimer);
    clearInterval(this.flowTimer);
    this.backlog = undefined;
    this.txs?.clear();
    // Unacknowledged queue messages go back to their queues, flagged redelivered.
    if (this.subsById) for (const sub of [...this.subsById.values()]) closeSubscription(this, sub, false);
    if (this.ownsQueues) this.router.queues.ownerGone(this.id);
    this.rpc?.leave();
    this.rpc = undefined;
    if (wasConnected && this.session) this.router.detach(this.session, this);
  }

  /** @internal Called by the shared 'close' listener. */
  onClose(): void {
    if (this.state !== "closed") this.finish();
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.onClosed(this);
  }
}

const EOL = Buffer.from("\n");

function unknownCommand(command: string, version: StompVersion): StompFrameError {
  return new StompFrameError(
    `unknown command ${command}`,
    `${command} is not a client frame of STOMP ${version}`,
  );
}

function uncork(c: StompConnection): void {
  c.uncorkNow();
}

function onSendBeat(c: StompConnection): void {
  c.beat();
}

function onReadTimeout(c: StompConnection, expected: number): void {
  c.fail(
    "heart-beat timeout",
    `no frame or heart-beat from the client within ${expected * 2} ms (negotiated ${expected} ms)`,
  );
}

function onConnectTimeout(c: StompConnection): void {
  c.fail("no CONNECT", `no CONNECT frame within ${c.options.connectTimeoutMs} ms`);
}

function destroyStream(stream: ByteStream): void {
  stream.destroy();
}
