/**
 * What XMPP acknowledges waits for the store commit that makes it durable: the result of a PubSub
 * publish, and XEP-0198's <a h='…'/> (the counted stanzas may have been stored offline).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { GatedStore } from "../../helpers/gated-store.js";
import { RawXmpp } from "./helpers.js";

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("xmpp acknowledgements follow the store commit", { timeout: 20_000 }, () => {
  test("PubSub publish: the iq result comes after the commit", async () => {
    const store = new GatedStore();
    const b = await startTestBroker({ store });
    const c = await RawXmpp.open(b.xmppPort);
    try {
      await c.login("pub", "r1");
      c.clear();
      store.gated = true;
      c.send(
        "<iq type='set' id='p1' to='pubsub.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>" +
          "<publish node='sensors/t1'><item id='i1'><value xmlns='urn:example'>21</value></item></publish>" +
          "</pubsub></iq>",
      );
      await quiet(150);
      assert.doesNotMatch(c.output, /id='p1'/, "result sent before the commit");
      store.open();
      await c.waitFor(/<iq[^>]*type='result'[^>]*id='p1'|<iq[^>]*id='p1'[^>]*type='result'/);
    } finally {
      store.open();
      c.close();
      await b.close();
    }
  });

  test("XEP-0198: <a/> answers <r/> after the commit, with the count at the time of <r/>", async () => {
    const store = new GatedStore();
    const b = await startTestBroker({ store });
    const c = await RawXmpp.open(b.xmppPort);
    try {
      await c.login("acker", "r1");
      c.send("<enable xmlns='urn:xmpp:sm:3'/>");
      await c.waitFor(/<enabled/);
      c.send("<message to='away@localhost' type='chat'><body>kept offline</body></message>");
      c.clear();
      store.gated = true;
      c.send("<r xmlns='urn:xmpp:sm:3'/>");
      await quiet(150);
      assert.doesNotMatch(c.output, /<a /, "<a/> sent before the commit");
      store.open();
      await c.waitFor(/<a xmlns='urn:xmpp:sm:3' h='1'\/>/);
    } finally {
      store.open();
      c.close();
      await b.close();
    }
  });
});
