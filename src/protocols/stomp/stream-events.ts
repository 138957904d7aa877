/**
 * The stream listeners of every STOMP connection: one set of functions shared by all connections (no
 * closures per connection), which find their connection on the stream.
 */
import type { ByteStream } from "../../transports/types.js";
import type { StompConnection } from "./connection.js";

const OWNER = Symbol("stompConnection");
type OwnedStream = ByteStream & { [OWNER]: StompConnection };

function onStreamData(this: ByteStream, chunk: Buffer): void {
  (this as OwnedStream)[OWNER].onData(chunk);
}

function onStreamError(this: ByteStream, err: Error): void {
  (this as OwnedStream)[OWNER].log.debug("stomp: socket error", { error: err.message });
}

function onStreamClose(this: ByteStream): void {
  (this as OwnedStream)[OWNER].onClose();
}

function onStreamDrain(this: ByteStream): void {
  (this as OwnedStream)[OWNER].onDrain();
}

export function listenTo(stream: ByteStream, c: StompConnection): void {
  (stream as OwnedStream)[OWNER] = c;
  stream.on("data", onStreamData);
  stream.on("error", onStreamError);
  stream.on("close", onStreamClose);
  stream.on("drain", onStreamDrain);
}
