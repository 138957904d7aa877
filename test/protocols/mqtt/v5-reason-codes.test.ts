/** MQTT 5 reason codes on PUBACK, SUBACK and UNSUBACK (§2.4, §3.4.2.1, §3.9.3, §3.11.3). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Acl } from "../../../src/core/auth/acl.js";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import type { Action, Auth, AuthResult, Credentials, Principal } from "../../../src/core/auth.js";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { connect5, connectPacket, rawConnect } from "./v5-helpers.js";

/** Allows everything except publishing to or subscribing to anything under "secret/". */
class DenySecretAuth implements Auth {
  async authenticate(c: Credentials): Promise<AuthResult> {
    return { ok: true, principal: { clientId: c.clientId, protocol: c.protocol, anonymous: true } };
  }
  authorize(_p: Principal, _a: Action, topic: string): boolean {
    return !topic.startsWith("secret/");
  }
}

test("v5 PUBACK 0x10 No matching subscribers, 0x00 once someone is subscribed", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  const { client: sub } = await connect5(b.mqttUrl, { clientId: "rc-somebody" });
  try {
    c.send(connectPacket("rc-pub"));
    await c.next("connack");
    const publish = (topic: string, packetId: number) =>
      c.send({
        cmd: "publish",
        topic,
        payload: Buffer.from("x"),
        qos: 1,
        retain: false,
        dup: false,
        packetId,
      });
    publish("nobody/here", 1);
    const nobody = await c.next("puback");
    assert.equal(nobody.cmd === "puback" && nobody.reasonCode, ReasonCode.NoMatchingSubscribers);
    await sub.subscribeAsync("somebody/here", { qos: 1 });
    publish("somebody/here", 2);
    const somebody = await c.next("puback");
    assert.equal(somebody.cmd === "puback" && somebody.reasonCode, ReasonCode.Success);
    // QoS 2: the same code on PUBREC.
    c.send({
      cmd: "publish",
      topic: "nobody/x",
      payload: Buffer.from("x"),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 3,
    });
    const rec = await c.next("pubrec");
    assert.equal(rec.cmd === "pubrec" && rec.reasonCode, ReasonCode.NoMatchingSubscribers);
  } finally {
    c.destroy();
    await endClient(sub);
    await b.close();
  }
});

test("v5 SUBACK 0x87 when the ACL denies, granted QoS for the others", { timeout: 10_000 }, async () => {
  const b = await startTestBroker({ auth: new DenySecretAuth() });
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("rc-sub"));
    await c.next("connack");
    const opts = { noLocal: false, retainAsPublished: false, retainHandling: 0 as const };
    c.send({
      cmd: "subscribe",
      packetId: 3,
      subscriptions: [
        { topic: "open/x", qos: 1, ...opts },
        { topic: "secret/x", qos: 1, ...opts },
        { topic: "open/y", qos: 2, ...opts },
      ],
    });
    const ack = await c.next("suback");
    assert.equal(ack.cmd === "suback" && ack.packetId, 3);
    assert.deepEqual(ack.cmd === "suback" && ack.reasonCodes, [1, ReasonCode.NotAuthorized, 2]);
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 SUBACK 0x87 through MQTT.js", { timeout: 10_000 }, async () => {
  const b = await startTestBroker({ auth: new DenySecretAuth() });
  const { client } = await connect5(b.mqttUrl, { clientId: "rc-sub-js" });
  try {
    const err = await client.subscribeAsync("secret/#", { qos: 1 }).then(
      () => assert.fail("subscribe should be refused"),
      (e: unknown) => e as { packet?: { granted?: number[] } },
    );
    assert.deepEqual(err.packet?.granted, [ReasonCode.NotAuthorized]);
  } finally {
    await endClient(client);
    await b.close();
  }
});

test("v5 SUBACK 0x8F for an invalid topic filter, and the connection stays open", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("rc-bad-filter"));
    await c.next("connack");
    const opts = { qos: 0 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const };
    c.send({
      cmd: "subscribe",
      packetId: 4,
      subscriptions: [
        { topic: "a/#/b", ...opts },
        { topic: "a/b+", ...opts },
        { topic: "ok/+", ...opts },
      ],
    });
    const ack = await c.next("suback");
    assert.deepEqual(ack.cmd === "suback" && ack.reasonCodes, [
      ReasonCode.TopicFilterInvalid,
      ReasonCode.TopicFilterInvalid,
      0,
    ]);
    c.send({ cmd: "pingreq" });
    await c.next("pingresp");
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 UNSUBACK 0x11 No subscription existed, 0x00 for an existing one", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const { client } = await connect5(b.mqttUrl, { clientId: "rc-unsub" });
  try {
    await client.subscribeAsync("uns/a", { qos: 0 });
    const ack = await client.unsubscribeAsync(["uns/a", "uns/never"]);
    assert.deepEqual((ack as { granted?: number[] } | undefined)?.granted, [
      ReasonCode.Success,
      ReasonCode.NoSubscriptionExisted,
    ]);
  } finally {
    await endClient(client);
    await b.close();
  }
});

test("v5 PUBACK 0x87 when publishing is not authorized; nothing is delivered", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ auth: new DenySecretAuth() });
  const c = await rawConnect(b.mqttPort);
  const { client: watcher } = await connect5(b.mqttUrl, { clientId: "rc-watch" });
  try {
    const seen: string[] = [];
    watcher.on("message", (t) => seen.push(t));
    await watcher.subscribeAsync("#", { qos: 1 });
    c.send(connectPacket("rc-denied"));
    await c.next("connack");
    c.send({
      cmd: "publish",
      topic: "secret/plans",
      payload: Buffer.from("x"),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 9,
    });
    const ack = await c.next("puback");
    assert.equal(ack.cmd === "puback" && ack.packetId, 9);
    assert.equal(ack.cmd === "puback" && ack.reasonCode, ReasonCode.NotAuthorized);
    // A later allowed publish arrives; the denied one never did.
    c.send({
      cmd: "publish",
      topic: "open/plans",
      payload: Buffer.from("y"),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 10,
    });
    const ok = await c.next("puback");
    assert.equal(ok.cmd === "puback" && ok.reasonCode, ReasonCode.Success);
    await new Promise<void>((resolve) => {
      if (seen.length > 0) return resolve();
      watcher.once("message", () => resolve());
    });
    assert.deepEqual(seen, ["open/plans"]);
  } finally {
    c.destroy();
    await endClient(watcher);
    await b.close();
  }
});

test("v5 MQTT.js publish callback reports PUBACK 0x87", { timeout: 10_000 }, async () => {
  const b = await startTestBroker({ auth: new DenySecretAuth() });
  const { client } = await connect5(b.mqttUrl, { clientId: "rc-denied-js" });
  try {
    const code = await new Promise<number | undefined>((resolve) => {
      client.publish("secret/x", "x", { qos: 1 }, (err, packet) => {
        resolve(
          (err as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number })?.reasonCode,
        );
      });
    });
    assert.equal(code, ReasonCode.NotAuthorized);
  } finally {
    await endClient(client);
    await b.close();
  }
});

test("ACL: a subscription only partly allowed is accepted and denied topics are filtered per message", {
  timeout: 10_000,
}, async () => {
  const acl = Acl.parse("deny any * subscribe sensors/secret/#\nallow any * all #\n");
  const b = await startTestBroker({ auth: new FileAuth({ acl, allowAnonymous: true }) });
  try {
    const sub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "reader" });
    const got = collect(sub);
    const granted = await sub.subscribeAsync("sensors/#", { qos: 1 });
    assert.equal(granted[0]!.qos, 1);
    await assert.rejects(sub.subscribeAsync("sensors/secret/#", { qos: 1 }), /Not authorized/);
    const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "writer" });
    await pub.publishAsync("sensors/secret/code", "1234", { qos: 1 });
    await pub.publishAsync("sensors/kitchen/temp", "21", { qos: 0 });
    await pub.publishAsync("sensors/secret/code", "5678", { qos: 0 });
    await pub.publishAsync("sensors/hall/temp", "19", { qos: 1 });
    const ms = await got.next(2);
    assert.deepEqual(
      ms.map((m) => m.topic),
      ["sensors/kitchen/temp", "sensors/hall/temp"],
    );
    await endClient(pub);
    await endClient(sub);
  } finally {
    await b.close();
  }
});

test("ACL: retained messages on a partly allowed subscription go through the per-message check", {
  timeout: 10_000,
}, async () => {
  const acl = Acl.parse("deny any * subscribe sensors/secret/#\nallow any * all #\n");
  const b = await startTestBroker({ auth: new FileAuth({ acl, allowAnonymous: true }) });
  try {
    const pub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "writer" });
    await pub.publishAsync("sensors/secret/code", "1234", { qos: 1, retain: true });
    await pub.publishAsync("sensors/kitchen/temp", "21", { qos: 1, retain: true });
    const sub = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "reader" });
    const got = collect(sub);
    await sub.subscribeAsync("sensors/#", { qos: 1 });
    // A live message after the retained ones: everything retained that was going to come is before it.
    await pub.publishAsync("sensors/hall/temp", "19", { qos: 1 });
    const ms = await got.next(2);
    assert.deepEqual(
      ms.map((m) => m.topic),
      ["sensors/kitchen/temp", "sensors/hall/temp"],
    );
    await endClient(pub);
    await endClient(sub);
  } finally {
    await b.close();
  }
});
