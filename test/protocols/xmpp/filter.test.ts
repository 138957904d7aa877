/**
 * Content filters on XMPP PubSub (docs/filters.md): the `switchboard#filter` field of the subscribe
 * options form (XEP-0060 §6.3.7, subscribe and configure), with @xmpp/client and MQTT.js.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { startTestBroker } from "../../helpers/broker.js";
import { connectClient, type XmlElement, xml } from "./helpers.js";

const PS = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";

function subscribeWithFilter(node: string, jid: string, filter: string) {
  return xml(
    "iq",
    { type: "set", to: "pubsub.localhost" },
    xml(
      "pubsub",
      PS,
      xml("subscribe", { node, jid }),
      xml(
        "options",
        {},
        xml(
          "x",
          { xmlns: "jabber:x:data", type: "submit" },
          xml(
            "field",
            { var: "FORM_TYPE", type: "hidden" },
            xml("value", {}, "http://jabber.org/protocol/pubsub#subscribe_options"),
          ),
          xml("field", { var: "switchboard#filter" }, xml("value", {}, filter)),
        ),
      ),
    ),
  );
}

function jsonOf(s: XmlElement, node: string): unknown {
  const items = s.is("message") ? s.getChild("event", EVENT)?.getChild("items") : undefined;
  if (items?.attrs.node !== node) return undefined;
  const text = items.getChild("item")?.getChild("json", "urn:xmpp:json:0")?.text();
  return text === undefined ? undefined : JSON.parse(text);
}

test("XMPP PubSub subscribe options: switchboard#filter selects events; a bad one is bad-request", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker();
  const x = await connectClient(b, { username: "filt" });
  const m = await mqtt.connectAsync(b.mqttUrl, { clientId: "filt-mqtt", protocolVersion: 5 });
  try {
    await assert.rejects(
      x.xmpp.iqCaller.request(subscribeWithFilter("plant/temp", "filt@localhost", "temperature >")),
      (e: { condition?: string }) => e.condition === "bad-request",
    );
    await x.xmpp.iqCaller.request(subscribeWithFilter("plant/temp", "filt@localhost", "temperature > 30"));
    const got: unknown[] = [];
    x.xmpp.on("stanza", (s: XmlElement) => {
      const v = jsonOf(s, "plant/temp");
      if (v !== undefined) got.push(v);
    });
    for (const t of [25, 35, 20, 40]) {
      await m.publishAsync("plant/temp", JSON.stringify({ temperature: t }), {
        qos: 1,
        properties: { contentType: "application/json" },
      });
    }
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, [{ temperature: 35 }, { temperature: 40 }]);
  } finally {
    await m.endAsync();
    await x.stop();
    await b.close();
  }
});
