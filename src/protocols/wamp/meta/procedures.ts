/**
 * Meta procedures (WAMP advanced profile: "Session Meta API", "Registration Meta API",
 * "Subscription Meta API"), served by the router itself through the Dealer's internal procedures.
 * Sessions come from the core's Presence record, so every protocol's clients are listed.
 */
import { type Dealer, RpcError, type RpcPayload } from "../../../core/dealer/index.js";
import type { Router } from "../../../core/router.js";
import { isDict, isId, WampError } from "../codec/messages.js";
import type { SubscriptionMatch, SubscriptionRegistry } from "../subscriptions.js";
import { registrationDetails, sessionDetails, subscriptionDetails } from "./details.js";

const MATCHES = ["exact", "prefix", "wildcard"];

function argId(p: RpcPayload, i = 0): number {
  const v = p.args?.[i];
  if (!isId(v)) throw new RpcError(WampError.invalidArgument, { args: [`argument ${i} must be an id`] });
  return v;
}

function argString(p: RpcPayload, i = 0): string {
  const v = p.args?.[i];
  if (typeof v !== "string")
    throw new RpcError(WampError.invalidArgument, { args: [`argument ${i} must be a string`] });
  return v;
}

function matchOption(p: RpcPayload): string {
  const o = p.args?.[1];
  const m = isDict(o) && typeof o.match === "string" ? o.match : "exact";
  if (!MATCHES.includes(m))
    throw new RpcError(WampError.invalidArgument, { args: [`unknown match policy ${m}`] });
  return m;
}

const one = (v: unknown): RpcPayload => ({ args: [v] });

export function installSessionMeta(router: Router): void {
  const dealer = router.dealer;
  const sessions = (p: RpcPayload) => {
    const roles = p.args?.[0];
    const filter = Array.isArray(roles) ? new Set(roles) : undefined;
    const out: number[] = [];
    for (const s of router.sessions.values()) {
      const c = s.connection;
      if (c === undefined) continue;
      if (filter !== undefined && !filter.has(sessionDetails(s, c).authrole)) continue;
      out.push(s.id);
    }
    return out;
  };
  dealer.addInternal("wamp.session.count", (p) => one(sessions(p).length));
  dealer.addInternal("wamp.session.list", (p) => one(sessions(p)));
  dealer.addInternal("wamp.session.get", (p) => {
    const s = router.presence.byId(argId(p));
    if (s?.connection === undefined) throw new RpcError(WampError.noSuchSession);
    return one(sessionDetails(s, s.connection));
  });
  dealer.addInternal("wamp.session.kill", (p, caller) => {
    const id = argId(p);
    if (id === caller.id)
      throw new RpcError(WampError.invalidArgument, { args: ["a session cannot kill itself"] });
    const s = router.presence.byId(id);
    if (s?.connection === undefined) throw new RpcError(WampError.noSuchSession);
    s.connection.close("administrative");
    return {};
  });
}

export function installRegistrationMeta(dealer: Dealer): void {
  const byId = (p: RpcPayload) => {
    const r = dealer.registration(argId(p));
    if (r === undefined) throw new RpcError(WampError.noSuchRegistration);
    return r;
  };
  dealer.addInternal("wamp.registration.list", () => {
    const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
    for (const r of dealer.registrations()) out[r.match]!.push(r.id);
    return one(out);
  });
  dealer.addInternal("wamp.registration.lookup", (p) => {
    const r = dealer.lookup(argString(p), matchOption(p) as SubscriptionMatch);
    return one(r?.id ?? null);
  });
  dealer.addInternal("wamp.registration.match", (p) => one(dealer.match(argString(p))?.id ?? null));
  dealer.addInternal("wamp.registration.get", (p) => one(registrationDetails(byId(p))));
  dealer.addInternal("wamp.registration.list_callees", (p) => one(byId(p).callees.map((c) => c.session.id)));
  dealer.addInternal("wamp.registration.count_callees", (p) => one(byId(p).callees.length));
}

export function installSubscriptionMeta(dealer: Dealer, subs: SubscriptionRegistry): void {
  const byId = (p: RpcPayload) => {
    const s = subs.get(argId(p));
    if (s === undefined) throw new RpcError(WampError.noSuchSubscription);
    return s;
  };
  dealer.addInternal("wamp.subscription.list", () => {
    const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
    for (const s of subs.all()) out[s.match]!.push(s.id);
    return one(out);
  });
  dealer.addInternal("wamp.subscription.lookup", (p) => {
    const s = subs.lookup(argString(p), matchOption(p) as SubscriptionMatch);
    return one(s?.id ?? null);
  });
  dealer.addInternal("wamp.subscription.match", (p) => {
    const found = subs.matching(argString(p));
    return one(found.length > 0 ? found.map((s) => s.id) : null);
  });
  dealer.addInternal("wamp.subscription.get", (p) => one(subscriptionDetails(byId(p))));
  dealer.addInternal("wamp.subscription.list_subscribers", (p) =>
    one([...byId(p).subscribers].map((s) => s.sessionId)),
  );
  dealer.addInternal("wamp.subscription.count_subscribers", (p) => one(byId(p).subscribers.size));
  dealer.addInternal("wamp.subscription.get_events", (p) => {
    const sub = byId(p);
    const limit = p.args?.[1];
    const h = sub.history ?? [];
    const n = isId(limit) && limit > 0 ? Math.min(limit, h.length) : h.length;
    // Newest first, as Crossbar.io returns them.
    const events = h
      .slice(h.length - n)
      .reverse()
      .map((e) => ({
        timestamp: e.timestamp,
        subscription: sub.id,
        publication: e.publication,
        topic: e.topic,
        args: e.payload.args ?? [],
        kwargs: e.payload.kwargs ?? {},
      }));
    return one(events);
  });
}
