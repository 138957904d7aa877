/** Resources: /.well-known/core, the /ps collection (discovery, create, delete), /rpc, conditional GET/PUT. */
import assert from "node:assert/strict";
import { test } from "node:test";
import autobahn from "autobahn";
import type coap from "coap";
import { CON, Code, Opt } from "../../../src/protocols/coap/codec/constants.js";
import { findOption } from "../../../src/protocols/coap/codec/message.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { joinAutobahn, VARIANTS } from "../../helpers/wamp.js";
import { mqttCallee } from "../mqtt/rpc-helpers.js";
import { buildRequest, closeAgent, coapRequest, newAgent, RawCoap } from "./helpers.js";

async function withClient(fn: (b: TestBroker, agent: coap.Agent) => Promise<void>): Promise<void> {
  const b = await startTestBroker();
  const agent = newAgent();
  try {
    await fn(b, agent);
  } finally {
    closeAgent(agent);
    await b.close();
  }
}

test(
  "RFC 6690: /.well-known/core lists /ps (rt=core.ps) and the topics, filterable by rt, href and ct",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const port = b.coapPort;
      await coapRequest({
        agent,
        port,
        method: "PUT",
        pathname: "/ps/room/temp",
        payload: "20",
        contentFormat: "text/plain",
      });
      await coapRequest({
        agent,
        port,
        method: "PUT",
        pathname: "/ps/room/json",
        payload: "{}",
        contentFormat: "application/json",
      });
      const all = await coapRequest({ agent, port, pathname: "/.well-known/core" });
      assert.equal(all.code, "2.05");
      assert.equal(all.headers["Content-Format"], "application/link-format");
      const text = all.payload.toString();
      assert.match(text, /<\/ps>;rt="core.ps";ct=40/);
      assert.match(text, /<\/ps\/room\/temp>;rt="core.ps.data";obs;ct=0/);
      const ps = await coapRequest({ agent, port, pathname: "/.well-known/core", query: "rt=core.ps" });
      assert.equal(ps.payload.toString(), '</ps>;rt="core.ps";ct=40');
      const byHref = await coapRequest({
        agent,
        port,
        pathname: "/.well-known/core",
        query: "href=/ps/room/j*",
      });
      assert.equal(byHref.payload.toString(), '</ps/room/json>;rt="core.ps.data";obs;ct=50');
      const byCt = await coapRequest({ agent, port, pathname: "/.well-known/core", query: "ct=0" });
      assert.equal(byCt.payload.toString(), '</ps/room/temp>;rt="core.ps.data";obs;ct=0');
    }),
);

test("pub/sub: GET /ps is topic discovery in link format", { timeout: 15_000 }, () =>
  withClient(async (b, agent) => {
    const port = b.coapPort;
    await coapRequest({ agent, port, method: "PUT", pathname: "/ps/d/one", payload: "1" });
    await coapRequest({ agent, port, method: "PUT", pathname: "/ps/d/two", payload: "2" });
    const res = await coapRequest({ agent, port, pathname: "/ps", query: "rt=core.ps.data" });
    assert.equal(res.code, "2.05");
    const links = res.payload.toString().split(",").sort();
    assert.deepEqual(links, ['</ps/d/one>;rt="core.ps.data";obs', '</ps/d/two>;rt="core.ps.data";obs']);
  }),
);

test(
  "pub/sub draft: POST /ps creates a topic (2.01, Location-Path), again is 4.03; DELETE removes it (2.02)",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const port = b.coapPort;
      const created = await coapRequest({
        agent,
        port,
        method: "POST",
        pathname: "/ps",
        payload: "<new/topic>;ct=50",
        contentFormat: 40,
      });
      assert.equal(created.code, "2.01");
      const location = (created._packet.options ?? [])
        .filter((o) => o.name === "Location-Path")
        .map((o) => String(o.value));
      assert.deepEqual(location, ["ps", "new", "topic"]);
      const again = await coapRequest({
        agent,
        port,
        method: "POST",
        pathname: "/ps",
        payload: "<new/topic>;ct=50",
        contentFormat: 40,
      });
      assert.equal(again.code, "4.03");
      const empty = await coapRequest({ agent, port, pathname: "/ps/new/topic" });
      assert.equal(empty.code, "2.05");
      assert.equal(empty.payload.length, 0);
      assert.equal(empty.headers["Content-Format"], "application/json");
      const del = await coapRequest({ agent, port, method: "DELETE", pathname: "/ps/new/topic" });
      assert.equal(del.code, "2.02");
      const gone = await coapRequest({ agent, port, pathname: "/ps/new/topic" });
      assert.equal(gone.code, "4.04");
      const delAgain = await coapRequest({ agent, port, method: "DELETE", pathname: "/ps/new/topic" });
      assert.equal(delAgain.code, "4.04");
      const bad = await coapRequest({
        agent,
        port,
        method: "POST",
        pathname: "/ps",
        payload: "no link",
        contentFormat: 40,
      });
      assert.equal(bad.code, "4.00");
      const badCt = await coapRequest({
        agent,
        port,
        method: "POST",
        pathname: "/ps",
        payload: "<x>",
        contentFormat: 50,
      });
      assert.equal(badCt.code, "4.15");
    }),
);

test("DELETE of a topic clears its retained value for MQTT too", { timeout: 15_000 }, () =>
  withClient(async (b, agent) => {
    const port = b.coapPort;
    await coapRequest({ agent, port, method: "PUT", pathname: "/ps/del/me", payload: "v" });
    assert.equal(retainedOn(b, "del/me"), "v");
    const del = await coapRequest({ agent, port, method: "DELETE", pathname: "/ps/del/me" });
    assert.equal(del.code, "2.02");
    assert.equal(retainedOn(b, "del/me"), undefined);
  }),
);

test(
  "?retain=false publishes without keeping the value; ?qos=0 publishes at QoS 0",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const sub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "s" });
      try {
        const got = collect(sub);
        await sub.subscribeAsync("nr/#", { qos: 1 });
        const r = await coapRequest({
          agent,
          port: b.coapPort,
          method: "PUT",
          pathname: "/ps/nr/x",
          query: "retain=false&qos=0",
          payload: "v",
        });
        assert.equal(r.code, "2.04");
        const [m] = await got.next(1);
        assert.equal(m!.packet.qos, 0);
        assert.equal(retainedOn(b, "nr/x"), undefined);
        const bad = await coapRequest({
          agent,
          port: b.coapPort,
          method: "PUT",
          pathname: "/ps/nr/x",
          query: "qos=7",
          payload: "v",
        });
        assert.equal(bad.code, "4.00");
      } finally {
        await endClient(sub, true);
      }
    }),
);

test(
  "topics: wildcards in a path level, an empty name or over 128 levels are 4.00; publishing to $SYS is 4.03",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const wild = await coapRequest({
        agent,
        port: b.coapPort,
        method: "PUT",
        pathname: "/ps/a/+/c",
        payload: "v",
      });
      assert.equal(wild.code, "4.00");
      const sys = await coapRequest({
        agent,
        port: b.coapPort,
        method: "PUT",
        pathname: "/ps/$SYS/x",
        payload: "v",
      });
      assert.equal(sys.code, "4.03");
    }),
);

test(
  "RFC 7252 §5.10.6: GET with the current ETag is 2.03 Valid; Accept mismatch is 4.06",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const port = b.coapPort;
      await coapRequest({
        agent,
        port,
        method: "PUT",
        pathname: "/ps/e/t",
        payload: "x",
        contentFormat: "text/plain",
      });
      // npm coap turns ETag values into strings: read them raw.
      const raw = await RawCoap.open(port);
      try {
        const tok = Buffer.from([5]);
        raw.send(buildRequest(CON, Code.GET, 1, tok, "/ps/e/t"));
        const first = await raw.next();
        const etag = findOption(first, Opt.ETag);
        assert.ok(etag !== undefined && etag.length > 0);
        raw.send(buildRequest(CON, Code.GET, 2, tok, "/ps/e/t", [{ number: Opt.ETag, value: etag }]));
        const valid = await raw.next();
        assert.equal(valid.code, Code.Valid);
        assert.equal(valid.payload.length, 0);
        assert.deepEqual(findOption(valid, Opt.ETag), etag);
        await coapRequest({
          agent,
          port,
          method: "PUT",
          pathname: "/ps/e/t",
          payload: "y",
          contentFormat: "text/plain",
        });
        raw.send(buildRequest(CON, Code.GET, 3, tok, "/ps/e/t", [{ number: Opt.ETag, value: etag }]));
        const changed = await raw.next();
        assert.equal(changed.code, Code.Content);
        assert.equal(changed.payload.toString(), "y");
      } finally {
        await raw.close();
      }
      const notAcceptable = await coapRequest({
        agent,
        port,
        pathname: "/ps/e/t",
        accept: "application/json",
      });
      assert.equal(notAcceptable.code, "4.06");
    }),
);

test(
  "RFC 7252 §5.10.8: If-None-Match on PUT fails with 4.12 when the topic has a value",
  { timeout: 15_000 },
  () =>
    withClient(async (b, agent) => {
      const port = b.coapPort;
      const first = await coapRequest({
        agent,
        port,
        method: "PUT",
        pathname: "/ps/c/n",
        payload: "1",
        options: { "If-None-Match": Buffer.alloc(0) },
      });
      assert.equal(first.code, "2.04");
      const second = await coapRequest({
        agent,
        port,
        method: "PUT",
        pathname: "/ps/c/n",
        payload: "2",
        options: { "If-None-Match": Buffer.alloc(0) },
      });
      assert.equal(second.code, "4.12");
    }),
);

test("routed RPC: POST /rpc/<procedure> calls a WAMP callee and an MQTT 5 callee", { timeout: 20_000 }, () =>
  withClient(async (b, agent) => {
    const wamp = await joinAutobahn(b, VARIANTS[0]!);
    const mqttCallee5 = await mqttCallee(b.mqttUrl, "com.mqtt.echo", (payload) => ({
      payload: Buffer.concat([Buffer.from("echo:"), payload]),
      contentType: "text/plain",
    }));
    try {
      await wamp.session.register("com.example.add", (args: number[]) => args[0]! + args[1]!);
      const sum = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/rpc/com.example.add",
        payload: '{"args": [2, 3]}',
        contentFormat: "application/json",
      });
      assert.equal(sum.code, "2.05");
      assert.equal(sum.headers["Content-Format"], "application/json");
      assert.equal(sum.payload.toString(), "5");
      const slashes = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/rpc/com/example/add",
        payload: '{"args": [4, 5]}',
        contentFormat: "application/json",
      });
      assert.equal(slashes.payload.toString(), "9", "path segments join with dots");
      const echo = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/rpc/com.mqtt.echo",
        payload: "hi",
        contentFormat: "text/plain",
      });
      assert.equal(echo.code, "2.05");
      assert.equal(echo.payload.toString(), "echo:hi");
      const missing = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/rpc/com.none",
      });
      assert.equal(missing.code, "4.04");
      assert.deepEqual(JSON.parse(missing.payload.toString()), { error: "wamp.error.no_such_procedure" });
      await wamp.session.register("com.example.fail", () => {
        throw new autobahn.Error("com.example.bad_input", ["no"]);
      });
      const failed = await coapRequest({
        agent,
        port: b.coapPort,
        method: "POST",
        pathname: "/rpc/com.example.fail",
      });
      assert.equal(failed.code, "5.00");
      assert.deepEqual(JSON.parse(failed.payload.toString()), {
        error: "com.example.bad_input",
        args: ["no"],
      });
      const get = await coapRequest({ agent, port: b.coapPort, pathname: "/rpc/com.example.add" });
      assert.equal(get.code, "4.05");
    } finally {
      await wamp.close();
      await endClient(mqttCallee5.client);
    }
  }),
);

test("routed RPC: a callee that never answers ends in 5.04, one that leaves in 5.02", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker({ config: (c) => (c.rpc.timeoutMs = 300) });
  const agent = newAgent();
  const wamp = await joinAutobahn(b, VARIANTS[0]!);
  try {
    await wamp.session.register("com.slow", () => new Promise(() => {}));
    const slow = await coapRequest({ agent, port: b.coapPort, method: "POST", pathname: "/rpc/com.slow" });
    assert.equal(slow.code, "5.04");
    const leaving = await joinAutobahn(b, VARIANTS[0]!);
    await leaving.session.register("com.leaving", () => new Promise(() => {}));
    const pending = coapRequest({ agent, port: b.coapPort, method: "POST", pathname: "/rpc/com.leaving" });
    await new Promise((r) => setTimeout(r, 100));
    await leaving.close();
    assert.equal((await pending).code, "5.02");
  } finally {
    await wamp.close();
    closeAgent(agent);
    await b.close();
  }
});

function retainedOn(b: TestBroker, topic: string): string | undefined {
  let v: string | undefined;
  b.handle.router.retainedMatching(topic, (m) => {
    v = m.payload.toString();
  });
  return v;
}
