/** The device directory: presence of connected clients of every protocol at devices.<domain>. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { escapeLocal } from "../../../src/protocols/xmpp/directory.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connectClient, type XmlElement, xml } from "./helpers.js";

describe("xmpp device directory", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(() => b.close());

  test("XEP-0106: client ids become valid JID local parts", () => {
    assert.equal(escapeLocal("a b@c/d:e"), "a\\20b\\40c\\2fd\\3ae");
  });

  test("subscribing to devices.localhost: presence of MQTT devices now and as they come and go", async () => {
    const before = await mqtt.connectAsync(b.mqttUrl, { clientId: "sensor-1" });
    const x = await connectClient(b, { username: "watcher" });
    try {
      await x.xmpp.send(xml("presence", { to: "devices.localhost", type: "subscribe" }));
      await x.waitFor(
        (s) => s.is("presence") && s.attrs.from === "devices.localhost" && s.attrs.type === "subscribed",
      );
      const p = await x.waitFor((s) => s.is("presence") && s.attrs.from === "sensor-1@devices.localhost");
      const device = p.getChild("device", "urn:switchboard:device:0");
      assert.equal(device.attrs.protocol, "mqtt");
      assert.equal(device.attrs["client-id"], "sensor-1");
      const later = await mqtt.connectAsync(b.mqttUrl, { clientId: "sensor 2" });
      await x.waitFor(
        (s) => s.is("presence") && s.attrs.from === "sensor\\202@devices.localhost" && !s.attrs.type,
      );
      await later.endAsync();
      await x.waitFor(
        (s) =>
          s.is("presence") &&
          s.attrs.from === "sensor\\202@devices.localhost" &&
          s.attrs.type === "unavailable",
      );
      const items = await x.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "get", to: "devices.localhost" },
          xml("query", "http://jabber.org/protocol/disco#items"),
        ),
      );
      const jids = items
        .getChild("query")
        .getChildren("item")
        .map((i: XmlElement) => i.attrs.jid);
      assert.ok(jids.includes("sensor-1@devices.localhost"));
      assert.ok(jids.includes(`${escapeLocal("xmpp:watcher@localhost")}@devices.localhost`));
    } finally {
      await before.endAsync();
      await x.stop();
    }
  });
});
