/** XEP-0060 on the shared topic space, with MQTT.js on the other side (both directions). */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connectClient, type XmlElement, xml } from "./helpers.js";

const PS = "http://jabber.org/protocol/pubsub";
const PS_OWNER = "http://jabber.org/protocol/pubsub#owner";
const EVENT = "http://jabber.org/protocol/pubsub#event";

function pubsubIq(type: string, ...children: unknown[]) {
  return xml("iq", { type, to: "pubsub.localhost" }, xml("pubsub", PS, ...children));
}

function eventItems(s: XmlElement, node: string): XmlElement | undefined {
  const items = s.is("message") ? s.getChild("event", EVENT)?.getChild("items") : undefined;
  return items?.attrs.node === node ? items : undefined;
}

describe("xmpp pubsub", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(() => b.close());

  test("an MQTT publish is a PubSub event; JSON, text and binary payloads map losslessly", async () => {
    const x = await connectClient(b, { username: "ps1" });
    const m = await mqtt.connectAsync(b.mqttUrl, { clientId: "ps-mqtt-1", protocolVersion: 5 });
    try {
      const r = await x.xmpp.iqCaller.request(
        pubsubIq("set", xml("subscribe", { node: "sensors/t1", jid: "ps1@localhost" })),
      );
      assert.equal(r.getChild("pubsub", PS).getChild("subscription").attrs.subscription, "subscribed");
      await m.publishAsync("sensors/t1", '{"c":21.5}', { properties: { contentType: "application/json" } });
      const j = eventItems(await x.waitFor((s) => !!eventItems(s, "sensors/t1")), "sensors/t1");
      assert.equal(j.getChild("item").getChild("json", "urn:xmpp:json:0").text(), '{"c":21.5}');
      await m.publishAsync("sensors/t1", "line1\r\nline2\t<&>");
      const t = await x.waitFor((s) =>
        eventItems(s, "sensors/t1")?.getChild("item").getChild("payload")?.text().startsWith("line1"),
      );
      assert.equal(
        eventItems(t, "sensors/t1").getChild("item").getChild("payload").text(),
        "line1\r\nline2\t<&>",
      );
      const bin = Buffer.from([0, 1, 2, 0xff, 0xfe]);
      await m.publishAsync("sensors/t1", bin);
      const bm = await x.waitFor(
        (s) => eventItems(s, "sensors/t1")?.getChild("item").getChild("payload")?.attrs.encoding === "base64",
      );
      assert.deepEqual(
        Buffer.from(eventItems(bm, "sensors/t1").getChild("item").getChild("payload").text(), "base64"),
        bin,
      );
    } finally {
      await m.endAsync();
      await x.stop();
    }
  });

  test("an XMPP publish reaches MQTT subscribers with payload and content type; the last item is retained", async () => {
    const x = await connectClient(b, { username: "ps2" });
    const m = await mqtt.connectAsync(b.mqttUrl, { clientId: "ps-mqtt-2", protocolVersion: 5 });
    try {
      const got: Array<{ topic: string; payload: Buffer; ct?: string; retain: boolean }> = [];
      m.on("message", (topic, payload, packet) =>
        got.push({ topic, payload, ct: packet.properties?.contentType, retain: packet.retain }),
      );
      await m.subscribeAsync("home/+/state", { qos: 1 });
      const bin = Buffer.from([9, 8, 7, 0]);
      await x.xmpp.iqCaller.request(
        pubsubIq(
          "set",
          xml(
            "publish",
            { node: "home/lamp/state" },
            xml("item", { id: "i1" }, xml("json", "urn:xmpp:json:0", '{"on":true}')),
          ),
        ),
      );
      await x.xmpp.iqCaller.request(
        pubsubIq(
          "set",
          xml(
            "publish",
            { node: "home/door/state" },
            xml(
              "item",
              {},
              xml(
                "payload",
                {
                  xmlns: "urn:switchboard:payload:0",
                  encoding: "base64",
                  "content-type": "application/octet-stream",
                },
                bin.toString("base64"),
              ),
            ),
          ),
        ),
      );
      await x.xmpp.iqCaller.request(
        pubsubIq(
          "set",
          xml(
            "publish",
            { node: "home/hall/state" },
            xml("item", {}, xml("entry", "http://www.w3.org/2005/Atom", xml("title", {}, "hi"))),
          ),
        ),
      );
      const until = Date.now() + 5000;
      while (got.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got.length, 3);
      assert.deepEqual(
        [got[0]!.topic, got[0]!.payload.toString(), got[0]!.ct],
        ["home/lamp/state", '{"on":true}', "application/json"],
      );
      assert.deepEqual([got[1]!.payload, got[1]!.ct], [bin, "application/octet-stream"]);
      assert.equal(got[2]!.ct, "application/xml");
      assert.match(
        got[2]!.payload.toString(),
        /^<entry xmlns='http:\/\/www.w3.org\/2005\/Atom'><title>hi<\/title><\/entry>$/,
      );
      // retrieve items = the retained message, with the id the publisher gave
      const items = await x.xmpp.iqCaller.request(pubsubIq("get", xml("items", { node: "home/lamp/state" })));
      const item = items.getChild("pubsub", PS).getChild("items").getChild("item");
      assert.equal(item.attrs.id, "i1");
      assert.equal(item.getChild("json", "urn:xmpp:json:0").text(), '{"on":true}');
      // an MQTT subscriber arriving later gets it as a retained message
      const late = await mqtt.connectAsync(b.mqttUrl, { clientId: "ps-mqtt-late" });
      const retained = new Promise<Buffer>((resolve) => late.on("message", (_t, p) => resolve(p)));
      await late.subscribeAsync("home/lamp/state");
      assert.equal((await retained).toString(), '{"on":true}');
      await late.endAsync();
      // retract deletes the last item everywhere
      await x.xmpp.iqCaller.request(
        pubsubIq("set", xml("retract", { node: "home/lamp/state" }, xml("item", { id: "i1" }))),
      );
      const none = await x.xmpp.iqCaller.request(pubsubIq("get", xml("items", { node: "home/lamp/state" })));
      assert.equal(none.getChild("pubsub", PS).getChild("items").getChildren("item").length, 0);
    } finally {
      await m.endAsync();
      await x.stop();
    }
  });

  test("XMPP to XMPP: notifications to subscribers, the publisher id, last item on subscribe", async () => {
    const pub = await connectClient(b, { username: "ps-pub" });
    const sub = await connectClient(b, { username: "ps-sub", ws: true });
    try {
      await pub.xmpp.iqCaller.request(
        pubsubIq(
          "set",
          xml(
            "publish",
            { node: "news/x" },
            xml("item", { id: "first" }, xml("payload", { xmlns: "urn:switchboard:payload:0" }, "one")),
          ),
        ),
      );
      await sub.xmpp.iqCaller.request(
        pubsubIq("set", xml("subscribe", { node: "news/x", jid: "ps-sub@localhost" })),
      );
      const last = await sub.waitFor((s) => eventItems(s, "news/x")?.getChild("item")?.attrs.id === "first");
      assert.equal(last.attrs.from, "pubsub.localhost");
      await pub.xmpp.iqCaller.request(
        pubsubIq(
          "set",
          xml(
            "publish",
            { node: "news/x" },
            xml("item", { id: "second" }, xml("payload", { xmlns: "urn:switchboard:payload:0" }, "two")),
          ),
        ),
      );
      const ev = await sub.waitFor((s) => eventItems(s, "news/x")?.getChild("item")?.attrs.id === "second");
      assert.equal(eventItems(ev, "news/x").getChild("item").attrs.publisher, "ps-pub@localhost");
      const subs = await sub.xmpp.iqCaller.request(pubsubIq("get", xml("subscriptions")));
      assert.deepEqual(
        subs
          .getChild("pubsub", PS)
          .getChild("subscriptions")
          .getChildren("subscription")
          .map((s: XmlElement) => s.attrs.node),
        ["news/x"],
      );
      await sub.xmpp.iqCaller.request(
        pubsubIq("set", xml("unsubscribe", { node: "news/x", jid: "ps-sub@localhost" })),
      );
      await assert.rejects(
        sub.xmpp.iqCaller.request(
          pubsubIq("set", xml("unsubscribe", { node: "news/x", jid: "ps-sub@localhost" })),
        ),
        /unexpected-request/,
      );
    } finally {
      await pub.stop();
      await sub.stop();
    }
  });

  test("XEP-0060 §8: create (conflict on an existing node), configure, delete notifies subscribers", async () => {
    const o = await connectClient(b, { username: "owner" });
    try {
      await o.xmpp.iqCaller.request(pubsubIq("set", xml("create", { node: "made/here" })));
      await assert.rejects(
        o.xmpp.iqCaller.request(pubsubIq("set", xml("create", { node: "made/here" }))),
        /conflict/,
      );
      const instant = await o.xmpp.iqCaller.request(pubsubIq("set", xml("create")));
      assert.match(instant.getChild("pubsub", PS).getChild("create").attrs.node, /^instant\//);
      const form = await o.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "get", to: "pubsub.localhost" },
          xml("pubsub", PS_OWNER, xml("configure", { node: "made/here" })),
        ),
      );
      assert.ok(form.getChild("pubsub", PS_OWNER).getChild("configure").getChild("x", "jabber:x:data"));
      await o.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "set", to: "pubsub.localhost" },
          xml(
            "pubsub",
            PS_OWNER,
            xml(
              "configure",
              { node: "made/here" },
              xml(
                "x",
                { xmlns: "jabber:x:data", type: "submit" },
                xml(
                  "field",
                  { var: "FORM_TYPE" },
                  xml("value", {}, "http://jabber.org/protocol/pubsub#node_config"),
                ),
                xml("field", { var: "pubsub#title" }, xml("value", {}, "Made here")),
              ),
            ),
          ),
        ),
      );
      await o.xmpp.iqCaller.request(
        pubsubIq("set", xml("subscribe", { node: "made/here", jid: "owner@localhost" })),
      );
      await o.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "set", to: "pubsub.localhost" },
          xml("pubsub", PS_OWNER, xml("delete", { node: "made/here" })),
        ),
      );
      await o.waitFor(
        (s) => s.is("message") && s.getChild("event", EVENT)?.getChild("delete")?.attrs.node === "made/here",
      );
      const subs = await o.xmpp.iqCaller.request(pubsubIq("get", xml("subscriptions")));
      assert.equal(
        subs.getChild("pubsub", PS).getChild("subscriptions").getChildren("subscription").length,
        0,
      );
      await assert.rejects(
        o.xmpp.iqCaller.request(
          pubsubIq("set", xml("publish", { node: "bad/+" }, xml("item", {}, xml("x", "urn:x")))),
        ),
        /bad-request/,
      );
      await assert.rejects(
        o.xmpp.iqCaller.request(pubsubIq("set", xml("subscribe", { node: "a", jid: "other@localhost" }))),
        /bad-request/,
      );
      const info = await o.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "get", to: "pubsub.localhost" },
          xml("query", "http://jabber.org/protocol/disco#info"),
        ),
      );
      assert.equal(info.getChild("query").getChild("identity").attrs.category, "pubsub");
    } finally {
      await o.stop();
    }
  });
});

describe("xmpp pubsub subscriptions in the store", { timeout: 30_000 }, () => {
  test("subscriptions survive a restart; a QoS 1 item published while the user is away arrives with <delay/>", async () => {
    const { MemoryStore } = await import("../../../src/store/memory-store.js");
    const store = new MemoryStore();
    let b = await startTestBroker({ store });
    const x = await connectClient(b, { username: "keeper" });
    await x.xmpp.iqCaller.request(
      pubsubIq("set", xml("subscribe", { node: "kept/node", jid: "keeper@localhost" })),
    );
    await x.stop();
    await b.close();
    b = await startTestBroker({ store });
    try {
      const m = await mqtt.connectAsync(b.mqttUrl, { clientId: "kept-pub" });
      await m.publishAsync("kept/node", "while away", { qos: 1 });
      await m.publishAsync("kept/node", "qos 0 is transient", { qos: 0 });
      await m.endAsync();
      const back = await connectClient(b, { username: "keeper" });
      try {
        const ev = await back.waitFor(
          (s) => eventItems(s, "kept/node")?.getChild("item")?.getChildText("payload") === "while away",
        );
        assert.ok(ev.getChild("delay", "urn:xmpp:delay"));
        const subs = await back.xmpp.iqCaller.request(pubsubIq("get", xml("subscriptions")));
        assert.deepEqual(
          subs
            .getChild("pubsub", PS)
            .getChild("subscriptions")
            .getChildren("subscription")
            .map((s: XmlElement) => s.attrs.node),
          ["kept/node"],
        );
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(
          back.received.filter(
            (s: XmlElement) =>
              eventItems(s, "kept/node")?.getChild("item")?.getChildText("payload") === "qos 0 is transient",
          ).length,
          0,
        );
      } finally {
        await back.stop();
      }
    } finally {
      await b.close();
    }
  });
});
