/**
 * Meta events (WAMP advanced profile: session, subscription and registration meta API): published
 * into the one topic space on `wamp.session.on_join` (core topic `wamp/session/on_join`) and so on,
 * so WAMP subscribers receive them like any event and other protocols may watch them too. Nothing is
 * built while nobody subscribes to anything.
 */
import type { Registration } from "../../../core/dealer/index.js";
import type { Router } from "../../../core/router.js";
import type { Session } from "../../../core/session.js";
import { uriToTopic } from "../codec/uri.js";
import { setEventInfo } from "../events.js";
import { createWampMessage } from "../payload.js";
import type { WampSubscription } from "../subscriptions.js";
import { registrationDetails, sessionDetails, subscriptionDetails } from "./details.js";

export class MetaEvents {
  constructor(private readonly router: Router) {
    router.presence.listen({
      joined: (s, c) => this.publish("wamp.session.on_join", () => [sessionDetails(s, c)]),
      left: (s, c) =>
        this.publish("wamp.session.on_leave", () => {
          const d = sessionDetails(s, c);
          return [d.session, d.authid, d.authrole];
        }),
    });
    router.dealer.listen({
      onCreate: (r, s) => this.publish("wamp.registration.on_create", () => [s.id, registrationDetails(r)]),
      onRegister: (r, s) => this.publish("wamp.registration.on_register", () => [s.id, r.id]),
      onUnregister: (r, s) => this.publish("wamp.registration.on_unregister", () => [s.id, r.id]),
      onDelete: (r: Registration, s) => this.publish("wamp.registration.on_delete", () => [s.id, r.id]),
    });
  }

  subscriptionCreated(s: Session, sub: WampSubscription): void {
    this.publish("wamp.subscription.on_create", () => [s.id, subscriptionDetails(sub)]);
  }

  subscribed(s: Session, sub: WampSubscription): void {
    this.publish("wamp.subscription.on_subscribe", () => [s.id, sub.id]);
  }

  unsubscribed(s: Session, sub: WampSubscription): void {
    this.publish("wamp.subscription.on_unsubscribe", () => [s.id, sub.id]);
  }

  subscriptionDeleted(s: Session, sub: WampSubscription): void {
    this.publish("wamp.subscription.on_delete", () => [s.id, sub.id]);
  }

  private publish(uri: string, args: () => unknown[]): void {
    if (this.router.subscriptionCount === 0 || this.router.isClosed) return;
    const values = args();
    const m = createWampMessage(uriToTopic(uri), values, undefined, false, "");
    setEventInfo(m, { args: values }, undefined, uri);
    this.router.publish(m);
  }
}
