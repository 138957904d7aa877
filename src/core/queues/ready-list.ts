/**
 * The ready messages of a queue, in seq order: a FIFO that also takes requeued messages back at
 * their original position. An array with a moving head, so shift() is O(1) without a linked list.
 */
import type { QueueEntry } from "./types.js";

export class ReadyList {
  private items: Array<QueueEntry | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): QueueEntry | undefined {
    return this.items[this.head];
  }

  push(entry: QueueEntry): void {
    this.items.push(entry);
  }

  shift(): QueueEntry | undefined {
    if (this.head >= this.items.length) return undefined;
    const entry = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      // Reclaim the consumed prefix once it is the larger half, so memory follows the queue length.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /**
   * Puts a requeued entry back before every entry with a higher seq (RabbitMQ's "original
   * position"). Requeued entries are older than nearly all ready ones, so the scan is short and the
   * common case reuses the free slot before the head.
   */
  insertBySeq(entry: QueueEntry): void {
    let i = this.head;
    const n = this.items.length;
    while (i < n && this.items[i]!.seq < entry.seq) i++;
    if (i === this.head && this.head > 0) {
      this.items[--this.head] = entry;
      return;
    }
    this.items.splice(i, 0, entry);
  }

  /** The i-th ready entry (0 = the head). */
  at(i: number): QueueEntry | undefined {
    return this.items[this.head + i];
  }

  /** Removes and returns the i-th ready entry (selector consumers take from the middle). */
  removeAt(i: number): QueueEntry {
    if (i === 0) return this.shift()!;
    return this.items.splice(this.head + i, 1)[0]!;
  }

  /** Empties the list and returns what it held, in order. */
  clear(): QueueEntry[] {
    const out = this.items.slice(this.head) as QueueEntry[];
    this.items = [];
    this.head = 0;
    return out;
  }
}
