/** One dispatcher for every inbound message, by session state and message type (WAMP §7, §6.5). */
import { type InboundMessage, MessageType, WampError } from "../codec/messages.js";
import type { WampConnection } from "../connection.js";
import { handlePublish, handleSubscribe, handleUnsubscribe } from "./pubsub.js";
import {
  handleCall,
  handleCancel,
  handleError,
  handleRegister,
  handleUnregister,
  handleYield,
} from "./rpc.js";
import { handleAbort, handleAuthenticate, handleGoodbye, handleHello } from "./session.js";

export function handleMessage(conn: WampConnection, m: InboundMessage): void {
  switch (conn.state) {
    case "hello":
      if (m[0] === MessageType.HELLO) return handleHello(conn, m);
      if (m[0] === MessageType.ABORT) return handleAbort(conn, m);
      return conn.abort(WampError.protocolViolation, `message type ${m[0]} before HELLO`);
    case "challenged":
      if (m[0] === MessageType.AUTHENTICATE) return handleAuthenticate(conn, m);
      if (m[0] === MessageType.ABORT) return handleAbort(conn, m);
      return conn.abort(WampError.protocolViolation, `message type ${m[0]} while waiting for AUTHENTICATE`);
    case "authenticating":
      return conn.abort(WampError.protocolViolation, `message type ${m[0]} before WELCOME`);
    case "closing":
      if (m[0] === MessageType.GOODBYE) return handleGoodbye(conn, m);
      return; // the session is over: whatever was in flight is dropped
    case "closed":
      return;
    case "joined":
      return joined(conn, m);
  }
}

function joined(conn: WampConnection, m: InboundMessage): void {
  switch (m[0]) {
    case MessageType.PUBLISH:
      return handlePublish(conn, m);
    case MessageType.SUBSCRIBE:
      return handleSubscribe(conn, m);
    case MessageType.UNSUBSCRIBE:
      return handleUnsubscribe(conn, m);
    case MessageType.CALL:
      return handleCall(conn, m);
    case MessageType.CANCEL:
      return handleCancel(conn, m);
    case MessageType.REGISTER:
      return handleRegister(conn, m);
    case MessageType.UNREGISTER:
      return handleUnregister(conn, m);
    case MessageType.YIELD:
      return handleYield(conn, m);
    case MessageType.ERROR:
      return handleError(conn, m);
    case MessageType.GOODBYE:
      return handleGoodbye(conn, m);
    case MessageType.ABORT:
      return handleAbort(conn, m);
    default:
      return conn.abort(
        WampError.protocolViolation,
        `message type ${m[0]} after the session was established`,
      );
  }
}
