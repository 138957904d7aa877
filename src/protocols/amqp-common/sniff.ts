/**
 * One listener for every AMQP version: the 8-byte protocol header a client sends first selects the
 * protocol (AMQP 0-9-1 §4.2.2; AMQP 1.0 §2.2 uses the same "AMQP" prefix with another id and
 * version, which is how RabbitMQ 4 serves both on 5672). A header we do not speak gets the header of
 * the version we prefer back and the socket is closed, as both specifications say.
 */
import type { ByteStream, TransportInfo } from "../../transports/types.js";

const HEADER_SIZE = 8;

/** Handles a connection whose header matched; returns where the following bytes go. */
export type ProtocolEntry = (stream: ByteStream, info: TransportInfo) => (chunk: Buffer) => void;

export interface AmqpProtocol {
  /** The exact 8-byte header, e.g. "AMQP" 0 0 9 1. */
  header: Buffer;
  accept: ProtocolEntry;
}

export interface SniffOptions {
  protocols: AmqpProtocol[];
  /** Sent back for an unknown header: the preferred protocol's header. */
  preferred: Buffer;
  /** A client that sends no complete header within this time is disconnected. */
  timeoutMs: number;
}

export function sniffAmqp(opts: SniffOptions): (stream: ByteStream, info: TransportInfo) => void {
  return (stream, info) => {
    let head: Buffer | undefined;
    let sink: ((chunk: Buffer) => void) | undefined;
    let done = false;
    const timer = setTimeout(() => {
      if (!sink) stream.destroy();
    }, opts.timeoutMs);
    timer.unref();
    stream.on("close", () => clearTimeout(timer));
    stream.on("data", (chunk: Buffer) => {
      if (sink) {
        sink(chunk);
        return;
      }
      if (done) return;
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < HEADER_SIZE) {
        // A prefix that can no longer be "AMQP": answer at once instead of waiting for 8 bytes.
        if (
          !opts.preferred
            .subarray(0, Math.min(4, head.length))
            .equals(head.subarray(0, Math.min(4, head.length)))
        ) {
          reject(stream);
          done = true;
        }
        return;
      }
      const header = head.subarray(0, HEADER_SIZE);
      const rest = head.subarray(HEADER_SIZE);
      head = undefined;
      const protocol = opts.protocols.find((p) => p.header.equals(header));
      if (!protocol) {
        done = true;
        reject(stream);
        return;
      }
      clearTimeout(timer);
      sink = protocol.accept(stream, info);
      if (rest.length > 0) sink(rest);
    });

    function reject(s: ByteStream): void {
      s.write(opts.preferred);
      s.end();
    }
  };
}
