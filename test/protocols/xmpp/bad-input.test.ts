/** Bad input ends the stream with the right RFC 6120 §4.9.3 condition and leaves other clients alone. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { connectClient, OPEN, RawXmpp, xml } from "./helpers.js";

describe("xmpp bad input", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker({ xmpp: { maxStanzaSize: 10_000 } });
  });
  after(() => b.close());

  async function streamErrorFor(input: string | Array<string | Buffer>, login?: string): Promise<string> {
    const raw = await RawXmpp.open(b.xmppPort);
    try {
      if (login) await raw.login(login);
      for (const s of Array.isArray(input) ? input : [input]) raw.send(s);
      const m = await raw.waitFor(/<stream:error><([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
      await raw.waitClosed();
      return m[1]!;
    } finally {
      raw.close();
    }
  }

  const cases: Array<[string, string | Array<string | Buffer>, string, string?]> = [
    ["§4.9.3.13 not-well-formed: mismatched tags", [OPEN, "<message><body></message>"], "not-well-formed"],
    [
      "§4.9.3.18 restricted-xml: a DTD (billion laughs)",
      "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaa'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
      "restricted-xml",
    ],
    ["§4.9.3.18 restricted-xml: a comment", [OPEN, "<!-- x -->"], "restricted-xml"],
    [
      "§4.9.3.10 invalid-namespace: wrong stream namespace",
      "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>",
      "invalid-namespace",
    ],
    [
      "§4.9.3.10 invalid-namespace: wrong content namespace",
      "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
      "invalid-namespace",
    ],
    [
      "§4.9.3.6 host-unknown",
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>",
      "host-unknown",
    ],
    [
      "§4.9.3.25 unsupported-version",
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='2.0'>",
      "unsupported-version",
    ],
    ["§4.9.3.2 bad-namespace-prefix", [OPEN, "<foo:message/>"], "bad-namespace-prefix"],
    [
      "§4.9.3.12 not-authorized: a stanza before authentication",
      [OPEN, "<message to='a@localhost'><body>x</body></message>"],
      "not-authorized",
    ],
    [
      "§4.9.3.19 policy-violation: a stanza over the size limit",
      [OPEN, `<message><body>${"x".repeat(20_000)}</body></message>`],
      "policy-violation",
    ],
    [
      "§4.9.3.22 unsupported-encoding: invalid UTF-8",
      [OPEN, Buffer.from([0x3c, 0x62, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x62, 0x3e])],
      "unsupported-encoding",
    ],
    ["§4.9.3.24 unsupported-stanza-type", [`<foo xmlns='urn:x'/>`], "unsupported-stanza-type", "eve"],
  ];
  for (const [name, input, condition, login] of cases) {
    test(`RFC 6120 ${name}`, async () => {
      assert.equal(await streamErrorFor(input, login), condition);
    });
  }

  test("a broken client does not affect another one", async () => {
    const c = await connectClient(b, { username: "frank" });
    try {
      await streamErrorFor([OPEN, "<message><body></message>"]);
      const pong = await c.xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("ping", "urn:xmpp:ping")));
      assert.equal(pong.attrs.type, "result");
    } finally {
      await c.stop();
    }
  });

  test("RFC 6120 §8.3: stanza errors with the right conditions", async () => {
    const raw = await RawXmpp.open(b.xmppPort);
    try {
      await raw.login("gina");
      raw.send("<iq type='get' id='q1' to='localhost'><query xmlns='urn:unknown'/></iq>");
      await raw.waitFor(
        /<iq[^>]*id='q1'[^>]*><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/>/,
      );
      raw.send("<iq type='get' id='q2'/>");
      await raw.waitFor(/id='q2'[^>]*><error type='modify'><bad-request/);
      raw.send("<message to='a@@b' id='q3'><body>x</body></message>");
      await raw.waitFor(/id='q3'[^>]*><error type='modify'><jid-malformed/);
      raw.send("<message to='someone@example.org' id='q4'><body>x</body></message>");
      await raw.waitFor(/id='q4'[^>]*><error type='cancel'><remote-server-not-found/);
      raw.send("<iq type='get' id='q5' to='nobody@localhost/x'><ping xmlns='urn:xmpp:ping'/></iq>");
      await raw.waitFor(/id='q5'[^>]*><error type='cancel'><service-unavailable/);
      assert.equal(raw.closed, false);
    } finally {
      raw.close();
    }
  });

  test("RFC 6120 §6.4.5: a wrong password is a SASL failure, the stream stays open for a retry", async () => {
    const { FileAuth } = await import("../../../src/core/auth/file-auth.js");
    const { hashPassword } = await import("../../../src/core/auth/users-file.js");
    const auth = new FileAuth({
      users: new Map([["hank", await hashPassword("right")]]),
      allowAnonymous: false,
    });
    const b2 = await startTestBroker({ auth });
    const raw = await RawXmpp.open(b2.xmppPort);
    try {
      await raw.login();
      raw.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0hank\0wrong").toString("base64")}</auth>`,
      );
      await raw.waitFor(/<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized\/><\/failure>/);
      raw.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NONE'/>`);
      await raw.waitFor(/<invalid-mechanism\/>/);
      raw.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0hank\0right").toString("base64")}</auth>`,
      );
      await raw.waitFor(/<success/);
    } finally {
      raw.close();
      await b2.close();
    }
  });
});

describe("xmpp keepalive", { timeout: 30_000 }, () => {
  test("XEP-0199: a silent client is pinged after the interval and cut after twice it; an answering one stays", async () => {
    const b = await startTestBroker({ xmpp: { pingIntervalSec: 1 } });
    try {
      const silent = await RawXmpp.open(b.xmppPort);
      await silent.login("quiet", "r");
      const lively = await RawXmpp.open(b.xmppPort);
      await lively.login("chatty", "r");
      const answer = setInterval(() => lively.send(" "), 300);
      try {
        await silent.waitFor(
          /<iq xmlns='jabber:client' type='get' id='keepalive'[^>]*><ping xmlns='urn:xmpp:ping'\/><\/iq>/,
          5000,
        );
        await silent.waitClosed(5000);
        assert.equal(lively.closed, false);
      } finally {
        clearInterval(answer);
        silent.close();
        lively.close();
      }
    } finally {
      await b.close();
    }
  });
});
