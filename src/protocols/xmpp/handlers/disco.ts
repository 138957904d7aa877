/** XEP-0030 service discovery of the server and of a user's account. */
import type { XmppHub } from "../hub.js";
import { NS } from "../namespaces.js";
import { type Element, el } from "../xml/element.js";

const SERVER_FEATURES = [
  NS.discoInfo,
  NS.discoItems,
  NS.ping,
  NS.roster,
  NS.sm,
  NS.version,
  "msgoffline", // XEP-0160
  NS.delay,
  NS.rpc, // routed RPC calls (handlers/rpc.ts)
];

export function serverDiscoInfo(_hub: XmppHub, query: Element, ownAccount: boolean): Element {
  const q = el("query", NS.discoInfo, { node: query.attr("node") });
  if (ownAccount) {
    q.add(el("identity", NS.discoInfo, { category: "account", type: "registered" }));
    q.add(el("feature", NS.discoInfo, { var: NS.discoInfo }));
    return q;
  }
  q.add(el("identity", NS.discoInfo, { category: "server", type: "im", name: "Switchboard" }));
  for (const f of SERVER_FEATURES) q.add(el("feature", NS.discoInfo, { var: f }));
  return q;
}

export function serverDiscoItems(hub: XmppHub, query: Element, ownAccount: boolean): Element {
  const q = el("query", NS.discoItems, { node: query.attr("node") });
  if (ownAccount) return q;
  q.add(
    el("item", NS.discoItems, { jid: hub.pubsubDomain, name: "Publish-Subscribe (the shared topic space)" }),
  );
  q.add(el("item", NS.discoItems, { jid: hub.directoryDomain, name: "Connected devices" }));
  return q;
}
