/** RFC 6121: roster get/set/push, the subscription handshake, presence broadcast and directed presence. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connectClient, type XmlElement, xml } from "./helpers.js";

const ROSTER = "jabber:iq:roster";

describe("xmpp presence and roster", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(() => b.close());

  function rosterItems(iq: XmlElement): Array<Record<string, string>> {
    return iq
      .getChild("query", ROSTER)
      .getChildren("item")
      .map((i: XmlElement) => i.attrs);
  }

  test("RFC 6121 §2: roster set, get and push; remove", async () => {
    const c = await connectClient(b, { username: "ron" });
    try {
      const empty = await c.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
      assert.deepEqual(rosterItems(empty), []);
      await c.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "set" },
          xml(
            "query",
            ROSTER,
            xml("item", { jid: "nina@localhost", name: "Nina" }, xml("group", {}, "Friends")),
          ),
        ),
      );
      const push = await c.waitFor(
        (s) => s.is("iq") && s.attrs.type === "set" && s.getChild("query", ROSTER),
      );
      assert.equal(rosterItems(push)[0]!.jid, "nina@localhost");
      const got = await c.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
      assert.deepEqual(rosterItems(got), [{ jid: "nina@localhost", name: "Nina", subscription: "none" }]);
      await c.xmpp.iqCaller.request(
        xml(
          "iq",
          { type: "set" },
          xml("query", ROSTER, xml("item", { jid: "nina@localhost", subscription: "remove" })),
        ),
      );
      const after = await c.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
      assert.deepEqual(rosterItems(after), []);
      await assert.rejects(
        c.xmpp.iqCaller.request(
          xml(
            "iq",
            { type: "set" },
            xml("query", ROSTER, xml("item", { jid: "a@localhost" }), xml("item", { jid: "b@localhost" })),
          ),
        ),
        /bad-request/,
      );
    } finally {
      await c.stop();
    }
  });

  for (const ws of [false, true]) {
    const via = ws ? "WebSocket" : "TCP";
    const sa = ws ? "wsa" : "sa";
    const sb = ws ? "wsb" : "sb";
    test(`RFC 6121 §3: subscribe, subscribed, presence broadcast, unavailable, unsubscribe (${via})`, async () => {
      const alice = await connectClient(b, { username: sa, resource: "phone", ws });
      const bob = await connectClient(b, { username: sb, resource: "desk", ws });
      try {
        await alice.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
        await bob.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
        await alice.xmpp.send(xml("presence", { to: `${sb}@localhost`, type: "subscribe" }));
        // alice's roster push: ask=subscribe
        const ask = await alice.waitFor(
          (s) => s.is("iq") && s.getChild("query", ROSTER)?.getChild("item")?.attrs.ask === "subscribe",
        );
        assert.equal(rosterItems(ask)[0]!.subscription, "none");
        const req = await bob.waitFor((s) => s.is("presence") && s.attrs.type === "subscribe");
        assert.equal(req.attrs.from, `${sa}@localhost`);
        await bob.xmpp.send(xml("presence", { to: `${sa}@localhost`, type: "subscribed" }));
        await alice.waitFor(
          (s) => s.is("presence") && s.attrs.type === "subscribed" && s.attrs.from === `${sb}@localhost`,
        );
        await alice.waitFor(
          (s) => s.is("iq") && s.getChild("query", ROSTER)?.getChild("item")?.attrs.subscription === "to",
        );
        await bob.waitFor(
          (s) => s.is("iq") && s.getChild("query", ROSTER)?.getChild("item")?.attrs.subscription === "from",
        );
        // alice now sees bob's presence (sent on approval) and its changes
        await alice.waitFor(
          (s) => s.is("presence") && s.attrs.from === `${sb}@localhost/desk` && !s.attrs.type,
        );
        await bob.xmpp.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "lunch")));
        const away = await alice.waitFor((s) => s.is("presence") && s.getChildText("status") === "lunch");
        assert.equal(away.attrs.from, `${sb}@localhost/desk`);
        assert.equal(away.getChildText("show"), "away");
        // bob does not see alice's (no subscription that way)
        await alice.xmpp.send(xml("presence", {}, xml("status", {}, "alice-status")));
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(
          bob.received.filter((s: XmlElement) => s.getChildText?.("status") === "alice-status").length,
          0,
        );
        // bob going offline: alice gets unavailable
        await bob.xmpp.send(xml("presence", { type: "unavailable" }));
        await alice.waitFor(
          (s) =>
            s.is("presence") && s.attrs.type === "unavailable" && s.attrs.from === `${sb}@localhost/desk`,
        );
        await alice.xmpp.send(xml("presence", { to: `${sb}@localhost`, type: "unsubscribe" }));
        await alice.waitFor(
          (s) => s.is("iq") && s.getChild("query", ROSTER)?.getChild("item")?.attrs.subscription === "none",
        );
      } finally {
        await alice.stop();
        await bob.stop();
      }
    });
  }

  test("RFC 6121 §4.6: directed presence and its unavailable when the sender leaves", async () => {
    const a = await connectClient(b, { username: "da", resource: "r" });
    const c = await connectClient(b, { username: "dc", resource: "r" });
    try {
      await a.xmpp.send(xml("presence", { to: "dc@localhost/r" }, xml("status", {}, "direct")));
      const p = await c.waitFor((s) => s.is("presence") && s.getChildText("status") === "direct");
      assert.equal(p.attrs.from, "da@localhost/r");
      await a.stop();
      await c.waitFor(
        (s) => s.is("presence") && s.attrs.type === "unavailable" && s.attrs.from === "da@localhost/r",
      );
    } finally {
      await c.stop();
    }
  });

  test("a user's resources see each other's presence", async () => {
    const one = await connectClient(b, { username: "multi", resource: "one" });
    const two = await connectClient(b, { username: "multi", resource: "two" });
    try {
      await one.waitFor((s) => s.is("presence") && s.attrs.from === "multi@localhost/two");
      await two.waitFor((s) => s.is("presence") && s.attrs.from === "multi@localhost/one");
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  test("RFC 6120 §7.7.2.2: binding a resource in use replaces the old session", async () => {
    const first = await connectClient(b, { username: "dup", resource: "same" });
    const closed = new Promise<void>((resolve) => first.xmpp.on("disconnect", () => resolve()));
    const second = await connectClient(b, { username: "dup", resource: "same" });
    try {
      await closed;
      assert.equal(second.jid, "dup@localhost/same");
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describe("xmpp rosters in the store", { timeout: 30_000 }, () => {
  test("RFC 6121 §2: a roster (items, subscriptions, pending requests) survives a restart", async () => {
    const { MemoryStore } = await import("../../../src/store/memory-store.js");
    const store = new MemoryStore();
    let b = await startTestBroker({ store });
    const a = await connectClient(b, { username: "keepa" });
    const c = await connectClient(b, { username: "keepc" });
    await a.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
    await c.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
    await a.xmpp.iqCaller.request(
      xml(
        "iq",
        { type: "set" },
        xml("query", ROSTER, xml("item", { jid: "keepc@localhost", name: "C" }, xml("group", {}, "G"))),
      ),
    );
    await a.xmpp.send(xml("presence", { to: "keepc@localhost", type: "subscribe" }));
    await c.waitFor((s) => s.is("presence") && s.attrs.type === "subscribe");
    await c.xmpp.send(xml("presence", { to: "keepa@localhost", type: "subscribed" }));
    await a.waitFor(
      (s) => s.is("iq") && s.getChild("query", ROSTER)?.getChild("item")?.attrs.subscription === "to",
    );
    // a request nobody answered yet
    await c.xmpp.send(xml("presence", { to: "keepa@localhost", type: "subscribe" }));
    await a.waitFor(
      (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === "keepc@localhost",
    );
    await a.stop();
    await c.stop();
    await b.close();
    b = await startTestBroker({ store });
    try {
      const a2 = await connectClient(b, { username: "keepa", presence: false });
      const got = await a2.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", ROSTER)));
      const items = got.getChild("query", ROSTER).getChildren("item");
      assert.equal(items.length, 1);
      assert.deepEqual(items[0].attrs, { jid: "keepc@localhost", name: "C", subscription: "to" });
      assert.equal(items[0].getChildText("group"), "G");
      await a2.xmpp.send(xml("presence"));
      await a2.waitFor(
        (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === "keepc@localhost",
      );
      await a2.stop();
    } finally {
      await b.close();
    }
  });
});
