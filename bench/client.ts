/**
 * A raw MQTT client socket: CONNECT and SUBSCRIBE during set-up (bodies parsed), then `attach` hands
 * the socket to a scenario's fixed-header counter. Nothing arrives between SUBACK and the first publish.
 */

import net from "node:net";
import { FrameReader, type OnPacket } from "./frame-reader.js";
import { CONNACK, connectPacket, DISCONNECT, SUBACK, subscribePacket } from "./packets.js";

export const HOST = "127.0.0.1";

export interface RawClient {
  sock: net.Socket;
  reader: FrameReader;
  /** Called with each read's bytes (a view of a shared buffer, valid only during the call). */
  onChunk: (chunk: Buffer) => void;
}

/**
 * One read buffer for every socket of the process: reads are handled synchronously one at a time and
 * nothing keeps a view of it (FrameReader copies partial packets). `onread` skips the stream machinery
 * and a Buffer allocation per read, which matters when a broker sends one TCP segment per message.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Connects and completes CONNECT/CONNACK (and SUBSCRIBE/SUBACK when `filter` is given). */
export function openClient(
  port: number,
  clientId: string,
  subscribe?: { filter: string; qos: 0 | 1 | 2 },
  timeoutMs = 10_000,
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const client: RawClient = {
      sock: undefined as unknown as net.Socket,
      reader: undefined as unknown as FrameReader,
      onChunk: (chunk) => client.reader.push(chunk),
    };
    const sock = net.connect({
      host: HOST,
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          client.onChunk((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    client.sock = sock;
    const timer = setTimeout(() => fail(new Error(`${clientId}: set-up timed out`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    const reader = new FrameReader((byte1, buf, start) => {
      const type = byte1 >> 4;
      if (type === CONNACK) {
        if (buf[start + 1] !== 0)
          return fail(new Error(`${clientId}: CONNACK return code ${buf[start + 1]}`));
        if (!subscribe) return done();
        sock.write(subscribePacket(subscribe.filter, subscribe.qos));
      } else if (type === SUBACK) {
        if ((buf[start + 2] as number) >= 0x80) return fail(new Error(`${clientId}: SUBSCRIBE refused`));
        done();
      }
    }, true);
    client.reader = reader;
    const done = (): void => {
      clearTimeout(timer);
      sock.off("error", fail);
      sock.on("error", () => {}); // errors after set-up show up as missing messages
      resolve(client);
    };
    sock.on("error", fail);
    sock.on("connect", () => sock.write(connectPacket(clientId)));
  });
}

/**
 * Replaces the set-up handler: `onPacket` for each packet, then `afterChunk` once per read (where
 * batched replies and new publishes are written).
 */
export function attach(c: RawClient, wantBody: boolean, onPacket: OnPacket, afterChunk?: () => void): void {
  const reader = new FrameReader(onPacket, wantBody);
  c.reader = reader;
  c.onChunk = afterChunk
    ? (chunk) => {
        reader.push(chunk);
        afterChunk();
      }
    : (chunk) => reader.push(chunk);
}

/** Sends DISCONNECT and waits (bounded) for every socket to close. */
export async function closeAll(clients: readonly RawClient[], timeoutMs = 3000): Promise<void> {
  await Promise.all(
    clients.map(
      ({ sock }) =>
        new Promise<void>((resolve) => {
          if (sock.destroyed) return resolve();
          const t = setTimeout(() => {
            sock.destroy();
            resolve();
          }, timeoutMs);
          sock.once("close", () => {
            clearTimeout(t);
            resolve();
          });
          sock.end(DISCONNECT);
        }),
    ),
  );
}

/** Opens clients with at most `concurrency` set-ups at a time. */
export async function openMany(
  count: number,
  concurrency: number,
  open: (i: number) => Promise<RawClient>,
): Promise<RawClient[]> {
  const out: RawClient[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}
