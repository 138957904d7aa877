/**
 * An output arena: small packets or frames a connection sends in one tick are copied into one
 * buffer and reach the socket as one chunk per flush, instead of a Buffer and a stream write each
 * (MQTT QoS 1/2 copies, WAMP WebSocket frames). Bytes are only appended; take() hands out what was
 * appended since the last take, which the stream may hold until written, so those bytes are never
 * written again, and a full arena is replaced, not reused.
 *
 * Connections make one for a tick with more than one write and drop it after a quiet tick, so an
 * idle connection holds none.
 */

/** The largest packet or frame copied into an arena; larger ones are written on their own. */
export const ARENA_MAX_COPY = 1024;
/** Above Node's pool limit (4 KiB): the arena is an allocation of its own, not a pool slab that queued payloads share. */
const ARENA_SIZE = 16 * 1024;

export class OutputArena {
  readonly buf: Buffer = Buffer.allocUnsafe(ARENA_SIZE);
  private from = 0;
  private end = 0;

  /** Where the next bytes go. */
  get offset(): number {
    return this.end;
  }

  /** Bytes appended and not yet taken. */
  get pending(): number {
    return this.end - this.from;
  }

  /** True when `n` more bytes fit. */
  room(n: number): boolean {
    return this.end + n <= this.buf.length;
  }

  /** Records `n` bytes written at `offset`. */
  appended(n: number): void {
    this.end += n;
  }

  /** The bytes appended since the last take, for the caller to write; undefined when none. */
  take(): Buffer | undefined {
    if (this.end === this.from) return undefined;
    const chunk = this.buf.subarray(this.from, this.end);
    this.from = this.end;
    return chunk;
  }
}
