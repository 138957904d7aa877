/** RFC 6120 stream negotiation, SASL and binding with @xmpp/client over TCP and WebSocket; message routing. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connectClient, xml } from "./helpers.js";

describe("xmpp login and messages", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(() => b.close());

  for (const ws of [false, true]) {
    const via = ws ? "WebSocket (RFC 7395)" : "TCP";
    test(`RFC 6120 §6-7: SASL PLAIN and resource binding over ${via}`, async () => {
      const c = await connectClient(b, { username: "alice", resource: `r-${via}`, ws });
      try {
        assert.equal(c.jid, `alice@localhost/r-${via}`);
      } finally {
        await c.stop();
      }
    });

    test(`RFC 6121 §8.5: a chat message between two full JIDs over ${via}`, async () => {
      const alice = await connectClient(b, { username: "alice", resource: "a", ws });
      const bob = await connectClient(b, { username: "bob", resource: "b", ws: !ws });
      try {
        await alice.xmpp.send(
          xml("message", { to: "bob@localhost/b", type: "chat", id: "m1" }, xml("body", {}, "hi & <bob>")),
        );
        const got = await bob.waitFor((s) => s.is("message") && s.getChildText("body") === "hi & <bob>");
        assert.equal(got.attrs.from, "alice@localhost/a");
        // to the bare JID: delivered to the available resource
        await bob.xmpp.send(xml("message", { to: "alice@localhost", type: "chat" }, xml("body", {}, "back")));
        const back = await alice.waitFor((s) => s.is("message") && s.getChildText("body") === "back");
        assert.equal(back.attrs.from, "bob@localhost/b");
      } finally {
        await alice.stop();
        await bob.stop();
      }
    });
  }

  test("XEP-0199 ping and XEP-0030 disco#info of the server", async () => {
    const c = await connectClient(b, { username: "carol" });
    try {
      const pong = await c.xmpp.iqCaller.request(
        xml("iq", { type: "get", to: "localhost" }, xml("ping", "urn:xmpp:ping")),
      );
      assert.equal(pong.attrs.type, "result");
      const info = await c.xmpp.iqCaller.request(
        xml("iq", { type: "get", to: "localhost" }, xml("query", "http://jabber.org/protocol/disco#info")),
      );
      const features = info
        .getChild("query")
        .getChildren("feature")
        .map((f: { attrs: { var: string } }) => f.attrs.var);
      assert.ok(features.includes("urn:xmpp:ping"));
      assert.ok(features.includes("urn:xmpp:sm:3"));
      const items = await c.xmpp.iqCaller.request(
        xml("iq", { type: "get", to: "localhost" }, xml("query", "http://jabber.org/protocol/disco#items")),
      );
      const jids = items
        .getChild("query")
        .getChildren("item")
        .map((i: { attrs: { jid: string } }) => i.attrs.jid);
      assert.deepEqual(jids.sort(), ["devices.localhost", "pubsub.localhost"]);
    } finally {
      await c.stop();
    }
  });
});
