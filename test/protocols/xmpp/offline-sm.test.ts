/** XEP-0160 offline messages (kept in the store across a restart) and XEP-0198 resumption after a cut connection. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { startTestBroker } from "../../helpers/broker.js";
import { connectClient, RawXmpp, xml } from "./helpers.js";

describe("xmpp offline messages and stream management", { timeout: 30_000 }, () => {
  test("XEP-0160: messages to an offline user are stored, survive a restart and come with <delay/> on login", async () => {
    const store = new MemoryStore();
    let b = await startTestBroker({ store });
    const sender = await connectClient(b, { username: "sender" });
    await sender.xmpp.send(xml("message", { to: "away@localhost", type: "chat" }, xml("body", {}, "first")));
    await sender.xmpp.send(
      xml("message", { to: "away@localhost/gone", type: "chat" }, xml("body", {}, "second")),
    );
    await sender.xmpp.send(
      xml("message", { to: "away@localhost", type: "headline" }, xml("body", {}, "not kept")),
    );
    // the iq round trip orders after the messages
    await sender.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", "urn:xmpp:ping")));
    await sender.stop();
    await b.close();
    b = await startTestBroker({ store });
    try {
      const away = await connectClient(b, { username: "away" });
      try {
        const first = await away.waitFor((s) => s.is("message") && s.getChildText("body") === "first");
        assert.match(first.attrs.from, /^sender@localhost\/.+/);
        assert.ok(first.getChild("delay", "urn:xmpp:delay")?.attrs.stamp);
        await away.waitFor((s) => s.is("message") && s.getChildText("body") === "second");
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(
          away.received.filter(
            (s: { getChildText(n: string): string }) => s.getChildText("body") === "not kept",
          ).length,
          0,
        );
      } finally {
        await away.stop();
      }
      // delivered once: a second login gets nothing again
      const again = await connectClient(b, { username: "away", resource: "2" });
      await again.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", "urn:xmpp:ping")));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(again.received.filter((s: { is(n: string): boolean }) => s.is("message")).length, 0);
      await again.stop();
    } finally {
      await b.close();
    }
  });

  test("XEP-0198 §5: a cut connection resumes and gets every unacknowledged stanza, none lost", async () => {
    const b = await startTestBroker({ xmpp: { resumeTimeoutSec: 30 } });
    const peer = await connectClient(b, { username: "peer" });
    try {
      const a = await RawXmpp.open(b.xmppPort);
      await a.login("mobile", "phone");
      a.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
      const [, id] = (await a.waitFor(
        /<enabled xmlns='urn:xmpp:sm:3' id='([^']+)' resume='true'/,
      )) as RegExpMatchArray;
      a.send("<presence/>");
      await a.waitFor(/<presence[^>]*from='mobile@localhost\/phone'/);
      for (const n of [1, 2, 3])
        await peer.xmpp.send(
          xml("message", { to: "mobile@localhost/phone", type: "chat" }, xml("body", {}, `m${n}`)),
        );
      await a.waitFor(/m3<\/body>/);
      // the client acknowledges the presence echo and m1 only, then its link breaks
      a.send("<a xmlns='urn:xmpp:sm:3' h='2'/>");
      await new Promise((r) => setTimeout(r, 50));
      a.close();
      await new Promise((r) => setTimeout(r, 100));
      for (const n of [4, 5])
        await peer.xmpp.send(
          xml("message", { to: "mobile@localhost/phone", type: "chat" }, xml("body", {}, `m${n}`)),
        );
      await peer.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", "urn:xmpp:ping")));
      const a2 = await RawXmpp.open(b.xmppPort);
      try {
        await a2.login();
        const cred = Buffer.from("\0mobile\0secret").toString("base64");
        a2.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${cred}</auth>`);
        await a2.waitFor(/<success/);
        a2.send(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
        );
        await a2.waitFor(/<sm xmlns='urn:xmpp:sm:3'\/>.*<\/stream:features>/);
        a2.send(`<resume xmlns='urn:xmpp:sm:3' previd='${id}' h='2'/>`);
        await a2.waitFor(/<resumed xmlns='urn:xmpp:sm:3' previd='[^']+' h='\d+'\/>/);
        await a2.waitFor(/m5<\/body>/);
        const bodies = [...a2.output.matchAll(/<body>(m\d)<\/body>/g)].map((m) => m[1]);
        assert.deepEqual(bodies, ["m2", "m3", "m4", "m5"]);
        // the resumed session is the same resource: it still receives
        await peer.xmpp.send(
          xml("message", { to: "mobile@localhost/phone", type: "chat" }, xml("body", {}, "m6")),
        );
        await a2.waitFor(/m6<\/body>/);
      } finally {
        a2.close();
      }
    } finally {
      await peer.stop();
      await b.close();
    }
  });

  test("XEP-0198 §5: resuming an unknown session fails; acks answer requests", async () => {
    const b = await startTestBroker();
    try {
      const a = await RawXmpp.open(b.xmppPort);
      await a.login("ackuser", "r");
      a.send("<enable xmlns='urn:xmpp:sm:3'/>");
      await a.waitFor(/<enabled xmlns='urn:xmpp:sm:3' id='[^']+'\/>/);
      a.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='urn:xmpp:sm:3'/>");
      await a.waitFor(/<a xmlns='urn:xmpp:sm:3' h='1'\/>/);
      a.close();
      const c = await RawXmpp.open(b.xmppPort);
      await c.login();
      c.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0ackuser\0x").toString("base64")}</auth>`,
      );
      await c.waitFor(/<success/);
      c.send(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
      );
      await c.waitFor(/<bind/);
      c.send("<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>");
      await c.waitFor(/<failed xmlns='urn:xmpp:sm:3'><item-not-found/);
      c.close();
    } finally {
      await b.close();
    }
  });
});

describe("xmpp resumption timeout and anonymous login", { timeout: 30_000 }, () => {
  test("XEP-0198 §4: a session not resumed in time ends; its unacknowledged messages go to offline storage", async () => {
    const b = await startTestBroker({ xmpp: { resumeTimeoutSec: 1 } });
    const peer = await connectClient(b, { username: "peer2" });
    try {
      const a = await RawXmpp.open(b.xmppPort);
      await a.login("flaky", "r");
      a.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>");
      await a.waitFor(/<presence[^>]*from='flaky@localhost\/r'/);
      await peer.xmpp.send(
        xml("message", { to: "flaky@localhost/r", type: "chat" }, xml("body", {}, "unacked")),
      );
      await a.waitFor(/unacked<\/body>/);
      a.close();
      await new Promise((r) => setTimeout(r, 1500));
      const back = await connectClient(b, { username: "flaky", resource: "new" });
      try {
        const m = await back.waitFor((s) => s.is("message") && s.getChildText("body") === "unacked");
        assert.equal(m.attrs.from.split("/")[0], "peer2@localhost");
      } finally {
        await back.stop();
      }
    } finally {
      await peer.stop();
      await b.close();
    }
  });

  test("RFC 4505 SASL ANONYMOUS gives a fresh JID", async () => {
    const b = await startTestBroker();
    try {
      const c = await connectClient(b, { mechanism: "ANONYMOUS" });
      assert.match(c.jid, /^anon-[0-9a-f]{12}@localhost\//);
      await c.stop();
    } finally {
      await b.close();
    }
  });
});
