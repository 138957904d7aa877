/** The XML namespaces XMPP uses (RFC 6120, RFC 6121, RFC 7395 and the XEPs named below). */
export const NS = {
  client: "jabber:client",
  stream: "http://etherx.jabber.org/streams",
  framing: "urn:ietf:params:xml:ns:xmpp-framing", // RFC 7395 §3.3
  streams: "urn:ietf:params:xml:ns:xmpp-streams", // RFC 6120 §4.9.3 conditions
  stanzas: "urn:ietf:params:xml:ns:xmpp-stanzas", // RFC 6120 §8.3.3 conditions
  tls: "urn:ietf:params:xml:ns:xmpp-tls",
  sasl: "urn:ietf:params:xml:ns:xmpp-sasl",
  bind: "urn:ietf:params:xml:ns:xmpp-bind",
  session: "urn:ietf:params:xml:ns:xmpp-session", // RFC 3921 legacy, announced as optional
  roster: "jabber:iq:roster",
  discoInfo: "http://jabber.org/protocol/disco#info", // XEP-0030
  discoItems: "http://jabber.org/protocol/disco#items",
  ping: "urn:xmpp:ping", // XEP-0199
  sm: "urn:xmpp:sm:3", // XEP-0198
  delay: "urn:xmpp:delay", // XEP-0203, stamps offline messages
  pubsub: "http://jabber.org/protocol/pubsub", // XEP-0060
  pubsubEvent: "http://jabber.org/protocol/pubsub#event",
  pubsubOwner: "http://jabber.org/protocol/pubsub#owner",
  pubsubErrors: "http://jabber.org/protocol/pubsub#errors",
  dataForms: "jabber:x:data", // XEP-0004
  json: "urn:xmpp:json:0", // XEP-0335 JSON containers
  payload: "urn:switchboard:payload:0", // our element for text and binary payloads (docs/xmpp.md)
  version: "jabber:iq:version",
  rpc: "urn:switchboard:rpc", // routed RPC calls from XMPP clients (docs/rpc.md "XMPP")
} as const;
