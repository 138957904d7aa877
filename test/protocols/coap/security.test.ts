/** Authentication by query parameters (EMQX style, insecure without DTLS), the one ACL, flood limits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Acl } from "../../../src/core/auth/acl.js";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { hashPassword } from "../../../src/core/auth/users-file.js";
import { CON, Code, NON } from "../../../src/protocols/coap/codec/constants.js";
import { startTestBroker } from "../../helpers/broker.js";
import { buildRequest, closeAgent, coapRequest, newAgent, RawCoap } from "./helpers.js";

test("credentials in the query: a known user publishes, a wrong password is 4.01, no user is 4.01 when anonymous is off", {
  timeout: 30_000,
}, async () => {
  const users = new Map([["dev", await hashPassword("secret")]]);
  const b = await startTestBroker({ auth: new FileAuth({ users, allowAnonymous: false }) });
  const agent = newAgent();
  try {
    const port = b.coapPort;
    const ok = await coapRequest({
      agent,
      port,
      method: "PUT",
      pathname: "/ps/a",
      query: "clientid=c1&username=dev&password=secret",
      payload: "1",
    });
    assert.equal(ok.code, "2.04");
    const bad = await coapRequest({
      agent,
      port,
      method: "PUT",
      pathname: "/ps/a",
      query: "clientid=c1&username=dev&password=nope",
      payload: "1",
    });
    assert.equal(bad.code, "4.01");
    const anon = await coapRequest({ agent, port, method: "PUT", pathname: "/ps/a", payload: "1" });
    assert.equal(anon.code, "4.01");
  } finally {
    closeAgent(agent);
    await b.close();
  }
});

test("the one ACL: publish and read/observe are checked per topic (4.03)", { timeout: 30_000 }, async () => {
  const acl = Acl.parse(
    ["allow client dev-* publish devices/%c/#", "allow any * subscribe devices/#", "deny any * all #"].join(
      "\n",
    ),
  );
  const b = await startTestBroker({ auth: new FileAuth({ acl, allowAnonymous: true }) });
  const agent = newAgent();
  try {
    const port = b.coapPort;
    const own = await coapRequest({
      agent,
      port,
      method: "PUT",
      pathname: "/ps/devices/dev-1/t",
      query: "clientid=dev-1",
      payload: "1",
    });
    assert.equal(own.code, "2.04");
    const other = await coapRequest({
      agent,
      port,
      method: "PUT",
      pathname: "/ps/devices/dev-2/t",
      query: "clientid=dev-1",
      payload: "1",
    });
    assert.equal(other.code, "4.03");
    const read = await coapRequest({ agent, port, pathname: "/ps/devices/dev-1/t", query: "clientid=x" });
    assert.equal(read.code, "2.05");
    const forbiddenRead = await coapRequest({ agent, port, pathname: "/ps/secret", query: "clientid=x" });
    assert.equal(forbiddenRead.code, "4.03");
    const forbiddenObserve = await coapRequest({
      agent,
      port,
      pathname: "/ps/secret",
      observe: 0,
      query: "clientid=x",
    });
    assert.equal(forbiddenObserve.code, "4.03");
    assert.equal(b.handle.router.subscriptionCount, 0);
    // Discovery lists only what the client may read.
    const list = await coapRequest({ agent, port, pathname: "/ps" });
    assert.equal(list.payload.toString(), '</ps/devices/dev-1/t>;rt="core.ps.data";obs');
  } finally {
    closeAgent(agent);
    await b.close();
  }
});

test("a flood of requests from one address is rate-limited (excess dropped)", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker({ coap: { rateLimit: 10, rateBurst: 20 } });
  const c = await RawCoap.open(b.coapPort);
  try {
    for (let i = 0; i < 200; i++)
      c.send(buildRequest(NON, Code.PUT, i, Buffer.from([1]), "/ps/flood", [], Buffer.from("x")));
    await new Promise((r) => setTimeout(r, 500));
    const answered = c.received.length;
    assert.ok(answered >= 15 && answered <= 40, `answered ${answered} of 200`);
  } finally {
    await c.close();
    await b.close();
  }
});

test("CON requests over a lossy link (every third datagram dropped both ways) still complete", {
  timeout: 60_000,
}, async () => {
  const { LossyProxy } = await import("./lossy-proxy.js");
  const b = await startTestBroker({ coap: { ackTimeoutMs: 100 } });
  const proxy = await LossyProxy.start(b.coapPort, 3);
  const coap = (await import("coap")).default;
  coap.updateTiming({ ackTimeout: 0.2, ackRandomFactor: 1.0, maxRetransmit: 8 });
  const agent = newAgent();
  try {
    for (let i = 0; i < 10; i++) {
      const put = await coapRequest(
        { agent, port: proxy.port, method: "PUT", pathname: "/ps/lossy", payload: String(i) },
        20_000,
      );
      assert.equal(put.code, "2.04");
    }
    const get = await coapRequest({ agent, port: proxy.port, pathname: "/ps/lossy" }, 20_000);
    assert.equal(get.payload.toString(), "9");
    assert.ok(proxy.dropped > 0);
  } finally {
    coap.defaultTiming();
    closeAgent(agent);
    await proxy.close();
    await b.close();
  }
});

test("confirmable notifications over a lossy link all arrive, in order", { timeout: 60_000 }, async () => {
  const { LossyProxy } = await import("./lossy-proxy.js");
  const b = await startTestBroker({ coap: { ackTimeoutMs: 50, maxRetransmit: 8 } });
  const proxy = await LossyProxy.start(b.coapPort, 3);
  const c = await RawCoap.open(proxy.port);
  try {
    const { Opt, ACK } = await import("../../../src/protocols/coap/codec/constants.js");
    const { encodeEmpty } = await import("../../../src/protocols/coap/codec/encode.js");
    const { uintOption } = await import("../../../src/protocols/coap/codec/message.js");
    // Register (retried by hand: the request itself may be dropped).
    let registered = false;
    for (let mid = 1; !registered && mid < 10; mid++) {
      c.send(
        buildRequest(CON, Code.GET, mid, Buffer.from([7]), "/ps/lossy/obs?qos=1", [
          uintOption(Opt.Observe, 0),
        ]),
      );
      registered = await c.next(300).then(
        () => true,
        () => false,
      );
    }
    assert.ok(registered);
    const got: string[] = [];
    const seen = new Set<number>();
    const publish = (i: number) =>
      b.handle.router.publish({
        topic: "lossy/obs",
        payload: Buffer.from(String(i)),
        qos: 1,
        retain: false,
        properties: {},
        publisherId: "t",
        timestamp: Date.now(),
      });
    for (let i = 0; i < 10; i++) publish(i);
    while (got.length < 10) {
      const n = await c.next(5000);
      if (n.type === CON) c.send(encodeEmpty(ACK, n.mid));
      if (n.code !== Code.Content || seen.has(n.mid)) continue;
      seen.add(n.mid);
      got.push(n.payload.toString());
    }
    assert.deepEqual(got, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert.ok(proxy.dropped > 0);
  } finally {
    await c.close();
    await proxy.close();
    await b.close();
  }
});

test("ACKs of confirmable notifications are not rate-limited (only requests are)", {
  timeout: 30_000,
}, async () => {
  const { Opt, ACK } = await import("../../../src/protocols/coap/codec/constants.js");
  const { encodeEmpty } = await import("../../../src/protocols/coap/codec/encode.js");
  const { uintOption } = await import("../../../src/protocols/coap/codec/message.js");
  const b = await startTestBroker({ coap: { rateLimit: 1, rateBurst: 2, ackTimeoutMs: 2000 } });
  const c = await RawCoap.open(b.coapPort);
  try {
    c.send(buildRequest(NON, Code.GET, 1, Buffer.from([3]), "/ps/acks?qos=1", [uintOption(Opt.Observe, 0)]));
    await c.next();
    for (let i = 0; i < 30; i++) {
      b.handle.router.publish({
        topic: "acks",
        payload: Buffer.from(String(i)),
        qos: 1,
        retain: false,
        properties: {},
        publisherId: "t",
        timestamp: Date.now(),
      });
    }
    // NSTART 1: each notification waits for the ACK of the one before; all 30 arrive quickly only
    // when every ACK gets through.
    for (let i = 0; i < 30; i++) {
      const n = await c.next(1500);
      assert.equal(n.payload.toString(), String(i));
      c.send(encodeEmpty(ACK, n.mid));
    }
  } finally {
    await c.close();
    await b.close();
  }
});
