/**
 * Each distinct selector evaluated at most once per message (docs/filters.md): the router and the
 * adapters that demultiplex one core subscription into several of their own (STOMP, WAMP) ask
 * `selects(selector, message)`; the answer is remembered for that message, keyed by the compiled
 * selector (compileSelector returns one object per distinct text). The MessageSubject, and so the
 * JSON parse of the payload, is made only for a message some selector tests.
 */
import type { Message } from "../message.js";
import type { CompiledSelector } from "./compile.js";
import { MessageSubject } from "./message-subject.js";

export class SelectorMemo {
  private message: Message | undefined;
  private subject: MessageSubject | undefined;
  private readonly results = new Map<CompiledSelector, boolean>();
  /** Selector evaluations done (tests check the at-most-once rule with it). */
  evaluations = 0;

  selects(selector: CompiledSelector, message: Message): boolean {
    if (this.message !== message || this.subject === undefined) {
      this.message = message;
      this.subject = new MessageSubject(message);
      this.results.clear();
    }
    let r = this.results.get(selector);
    if (r === undefined) {
      this.evaluations++;
      r = selector.matches(this.subject);
      this.results.set(selector, r);
    }
    return r;
  }

  /** Forgets the last message (the router calls it when a publish ends, so nothing is kept alive). */
  release(): void {
    if (this.message === undefined) return;
    this.message = undefined;
    this.subject = undefined;
    this.results.clear();
  }
}
