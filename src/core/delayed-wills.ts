/**
 * Will messages waiting for their Will Delay Interval (MQTT 5 §3.1.3.2.2). Each is kept in the
 * store until it is sent or cancelled, so a broker restart in between neither loses nor repeats it.
 */
import type { Store } from "../store/store.js";
import type { Message } from "./message.js";

interface PendingWill {
  message: Message;
  dueAt: number;
  timer: NodeJS.Timeout;
}

const MAX_TIMER_DELAY = 2_147_483_647;

export class DelayedWills {
  private readonly pending = new Map<string, PendingWill>();

  constructor(
    private readonly store: Store,
    private readonly publish: (clientId: string, message: Message) => void,
  ) {}

  /** Schedules (and stores, unless `restored`) the will of `clientId` for `dueAt` (ms epoch). */
  schedule(clientId: string, message: Message, dueAt: number, restored = false): void {
    this.cancel(clientId);
    if (!restored) this.store.saveWill({ clientId, message, dueAt });
    this.pending.set(clientId, { message, dueAt, timer: this.arm(clientId, dueAt) });
  }

  private arm(clientId: string, dueAt: number): NodeJS.Timeout {
    const left = dueAt - Date.now();
    // setTimeout fires at once for delays past 2^31-1 ms (24.8 days): wait in steps instead.
    const timer =
      left > MAX_TIMER_DELAY
        ? setTimeout(() => {
            const w = this.pending.get(clientId);
            if (w) w.timer = this.arm(clientId, w.dueAt);
          }, MAX_TIMER_DELAY)
        : setTimeout(() => this.fire(clientId), Math.max(0, left));
    timer.unref();
    return timer;
  }

  /** The client came back in time: the will is not sent ([MQTT-3.1.3-9]). */
  cancel(clientId: string): void {
    const w = this.pending.get(clientId);
    if (!w) return;
    clearTimeout(w.timer);
    this.pending.delete(clientId);
    this.store.deleteWill(clientId);
  }

  /** Sends the will now if one is pending (the session ended before the delay did). */
  fire(clientId: string): void {
    const w = this.pending.get(clientId);
    if (!w) return;
    this.cancel(clientId);
    this.publish(clientId, w.message);
  }

  /** Stops the timers; the stored wills stay for the next start. */
  stop(): void {
    for (const w of this.pending.values()) clearTimeout(w.timer);
    this.pending.clear();
  }
}
