/**
 * Notifications leave after the request that caused them is answered, as libcoap does: a PUT is
 * answered first and the observers of the resource are notified at the end of the event-loop turn
 * (setImmediate). The publisher's round trip then does not include one datagram send per observer,
 * and every notification of the turn goes out in one pass.
 */
import type { Message } from "../../core/message.js";
import type { Observer } from "./observer.js";

export interface NotifyTarget {
  notify(obs: Observer, message: Message, now: number): void;
}

export class NotifyBatch {
  private observers: Observer[] = [];
  private messages: Message[] = [];
  private targets: NotifyTarget[] = [];
  private scheduled = false;

  add(target: NotifyTarget, obs: Observer, message: Message): void {
    this.targets.push(target);
    this.observers.push(obs);
    this.messages.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const { targets, observers, messages } = this;
    this.targets = [];
    this.observers = [];
    this.messages = [];
    const now = Date.now();
    for (let i = 0; i < targets.length; i++) {
      // An observation cancelled in the meantime (RST, deregistration) gets nothing more.
      if (observers[i]!.active) targets[i]!.notify(observers[i]!, messages[i]!, now);
    }
  };
}
