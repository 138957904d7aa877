/** CONNECT / STOMP: version negotiation, login through the core Auth, the one ACL, virtual host. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Acl } from "../../../src/core/auth/acl.js";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { hashPassword } from "../../../src/core/auth/users-file.js";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { connect as mqttConnect } from "../../helpers/mqtt-client.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { stompitConnect, stompjs } from "../../helpers/stomp-clients.js";

test("STOMP 1.2 §Protocol Negotiation: the highest common version; none named = 1.0", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const cases: Array<[string | undefined, string | undefined]> = [
      ["1.0,1.1,1.2", "1.2"],
      ["1.1,1.0", "1.1"],
      ["1.0", "1.0"],
      [undefined, undefined], // 1.0: CONNECTED has no version header
    ];
    for (const [accept, expected] of cases) {
      const c = await RawStomp.open(b.stompPort);
      c.send(
        "CONNECT",
        accept === undefined
          ? []
          : [
              ["accept-version", accept],
              ["host", "/"],
            ],
      );
      const f = await c.waitCommand("CONNECTED");
      assert.equal(header(f, "version"), expected, String(accept));
      assert.ok(header(f, "session")?.startsWith("stomp-"));
      assert.match(header(f, "server") ?? "", /^Switchboard\//);
      c.destroy();
    }
  } finally {
    await b.close();
  }
});

test("STOMP 1.2 §Protocol Negotiation: no common version -> ERROR with our versions, then close", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await RawStomp.open(b.stompPort);
  try {
    c.send("STOMP", [
      ["accept-version", "2.0,3.1"],
      ["host", "/"],
    ]);
    const e = await c.waitCommand("ERROR");
    assert.equal(header(e, "version"), "1.0,1.1,1.2");
    assert.match(e.body.toString(), /Supported protocol versions are 1.0 1.1 1.2/);
    await c.waitClose();
  } finally {
    c.destroy();
    await b.close();
  }
});

test("login/passcode through the core Auth; wrong passcode -> ERROR and close", {
  timeout: 20_000,
}, async () => {
  const users = new Map([["alice", await hashPassword("secret")]]);
  const acl = Acl.parse(
    ["allow user alice all lab/#", "allow user alice all $queue/lab-jobs", "deny any * all #"].join("\n"),
  );
  const b = await startTestBroker({ auth: new FileAuth({ users, acl, allowAnonymous: false }) });
  try {
    const bad = await RawStomp.connect(b.stompPort, [
      ["login", "alice"],
      ["passcode", "wrong"],
    ]);
    assert.equal(bad.connected.command, "ERROR");
    assert.equal(header(bad.connected, "message"), "access refused");
    await bad.client.waitClose();
    const anon = await RawStomp.connect(b.stompPort);
    assert.equal(anon.connected.command, "ERROR", "anonymous refused without allowAnonymous");
    anon.client.destroy();

    const { client: ok, connected } = await RawStomp.connect(b.stompPort, [
      ["login", "alice"],
      ["passcode", "secret"],
    ]);
    assert.equal(connected.command, "CONNECTED");
    // The one ACL, in STOMP terms: lab/# allowed, the rest denied, queues as $queue/<name>.
    ok.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/topic/lab.#"],
      ["receipt", "s1"],
    ]);
    await ok.waitReceipt("s1");
    ok.send("SUBSCRIBE", [
      ["id", "2"],
      ["destination", "/queue/lab-jobs"],
      ["receipt", "s2"],
    ]);
    await ok.waitReceipt("s2");
    ok.send(
      "SEND",
      [
        ["destination", "/topic/office.door"],
        ["receipt", "p"],
      ],
      "x",
    );
    const e = await ok.waitCommand("ERROR");
    assert.equal(header(e, "message"), "access refused");
    assert.equal(header(e, "receipt-id"), "p");
    assert.match(e.body.toString(), /not authorized to publish to '\/topic\/office.door'/);
    await ok.waitClose();
    const { client: q } = await RawStomp.connect(b.stompPort, [
      ["login", "alice"],
      ["passcode", "secret"],
    ]);
    q.send("SEND", [["destination", "/queue/other-jobs"]], "x");
    assert.equal(header(await q.waitCommand("ERROR"), "message"), "access refused");
    assert.equal(b.handle.router.queues.find("other-jobs"), undefined, "a refused SEND creates no queue");
    await q.waitClose();

    // The same principal's rights from stompjs and stompit.
    const js = await stompjs(
      { tcp: b.stompPort },
      { connectHeaders: { login: "alice", passcode: "secret" } },
    );
    await js.deactivate();
    const it = await stompitConnect(b.stompPort, { login: "alice", passcode: "secret" });
    await new Promise((r) => it.disconnect(r));
  } finally {
    await b.close();
  }
});

test("a subscription only partly allowed by the ACL delivers only the allowed topics", {
  timeout: 20_000,
}, async () => {
  const acl = Acl.parse(["deny any * all lab/secret/#", "allow any * all lab/#"].join("\n"));
  const b = await startTestBroker({ auth: new FileAuth({ acl, allowAnonymous: true }) });
  const mqtt = await mqttConnect(b.mqttUrl);
  try {
    const { client: c } = await RawStomp.connect(b.stompPort);
    c.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/topic/lab.#"],
      ["receipt", "s"],
    ]);
    await c.waitReceipt("s");
    await mqtt.publishAsync("lab/secret/key", "no");
    await mqtt.publishAsync("lab/open", "yes");
    const [m] = await c.waitMessages(1);
    assert.equal(m!.body.toString(), "yes");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.messages().length, 1);
    c.destroy();
  } finally {
    await mqtt.endAsync();
    await b.close();
  }
});

test("virtual host: the host header must name stomp.virtualHost when one is configured", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ stomp: { virtualHost: "plant-a" } });
  try {
    const bad = await RawStomp.open(b.stompPort);
    bad.send("CONNECT", [
      ["accept-version", "1.2"],
      ["host", "plant-b"],
    ]);
    const e = await bad.waitCommand("ERROR");
    assert.equal(header(e, "message"), "virtual host not found");
    await bad.waitClose();
    const good = await RawStomp.open(b.stompPort);
    good.send("CONNECT", [
      ["accept-version", "1.2"],
      ["host", "plant-a"],
    ]);
    await good.waitCommand("CONNECTED");
    good.destroy();
  } finally {
    await b.close();
  }
});

test("presence: a STOMP client is a connected client of protocol stomp", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client, connected } = await RawStomp.connect(b.stompPort, [["login", "bob"]]);
    const rec = b.handle.router.presence.get(header(connected, "session")!);
    assert.equal(rec?.protocol, "stomp");
    assert.equal(rec?.protocolVersion, "1.2");
    assert.equal(rec?.username, "bob");
    client.destroy();
  } finally {
    await b.close();
  }
});
