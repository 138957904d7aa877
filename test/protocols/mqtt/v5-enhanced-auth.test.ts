/** MQTT 5 enhanced authentication (§4.12): the AUTH packet exchange through a registered method. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import type { AuthPacket } from "../../../src/protocols/mqtt/codec/packets.js";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import type { EnhancedAuthMethod } from "../../../src/protocols/mqtt/enhanced-auth.js";
import { startTestBroker } from "../../helpers/broker.js";
import { connectPacket, type RawClient, rawConnect } from "./v5-helpers.js";

const METHOD = "TEST-CHALLENGE";
const reverse = (b: Buffer): Buffer => Buffer.from(b).reverse();

/** Challenges with a random nonce and accepts its byte-reversal. */
const challenge: EnhancedAuthMethod = {
  async start(ctx) {
    const nonce = randomBytes(8);
    return { step: { kind: "continue", data: nonce }, state: { nonce, clientId: ctx.clientId } };
  },
  async next(state, data) {
    const s = state as { nonce: Buffer; clientId: string };
    if (!data?.equals(reverse(s.nonce))) return { kind: "failure" };
    return {
      kind: "success",
      principal: { clientId: s.clientId, protocol: "mqtt", anonymous: false, username: "challenged" },
      data: Buffer.from("welcome"),
    };
  },
};

const startBroker = () => startTestBroker({ mqttAuthMethods: new Map([[METHOD, challenge]]) });

async function challenged(c: RawClient): Promise<Buffer> {
  const auth = (await c.next()) as AuthPacket;
  assert.equal(auth.cmd, "auth");
  assert.equal(auth.reasonCode, ReasonCode.ContinueAuthentication);
  assert.equal(auth.properties?.authenticationMethod, METHOD);
  const nonce = auth.properties?.authenticationData;
  assert.ok(nonce && nonce.length === 8);
  return nonce;
}

const answer = (c: RawClient, data: Buffer, reasonCode: number = ReasonCode.ContinueAuthentication) =>
  c.send({ cmd: "auth", reasonCode, properties: { authenticationMethod: METHOD, authenticationData: data } });

test("v5 enhanced auth: challenge, right answer, CONNACK 0x00 with the method", {
  timeout: 10_000,
}, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-ok", { authenticationMethod: METHOD }));
    const nonce = await challenged(c);
    answer(c, reverse(nonce));
    const ack = await c.next();
    assert.equal(ack.cmd, "connack");
    assert.equal(ack.cmd === "connack" && ack.reasonCode, ReasonCode.Success);
    assert.equal(ack.cmd === "connack" && ack.properties?.authenticationMethod, METHOD);
    assert.deepEqual(ack.cmd === "connack" && ack.properties?.authenticationData, Buffer.from("welcome"));
    // Connected: it can subscribe.
    c.send({
      cmd: "subscribe",
      packetId: 1,
      subscriptions: [{ topic: "ea/t", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    });
    const sub = await c.next("suback");
    assert.deepEqual(sub.cmd === "suback" && sub.reasonCodes, [0]);
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 enhanced auth: a wrong answer gets CONNACK 0x87 and the connection closes", {
  timeout: 10_000,
}, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-bad", { authenticationMethod: METHOD }));
    const nonce = await challenged(c);
    answer(c, nonce); // not reversed
    const ack = await c.next();
    assert.equal(ack.cmd === "connack" && ack.reasonCode, ReasonCode.NotAuthorized);
    await c.closed;
    assert.equal(b.handle.router.sessions.has("ea-bad"), false);
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 enhanced auth: an unknown method gets CONNACK 0x8C", { timeout: 10_000 }, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-unknown", { authenticationMethod: "NOPE" }));
    const ack = await c.next();
    assert.equal(ack.cmd === "connack" && ack.reasonCode, ReasonCode.BadAuthenticationMethod);
    await c.closed;
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 enhanced auth: re-authentication with AUTH 0x19 ends in AUTH 0x00", {
  timeout: 10_000,
}, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-re", { authenticationMethod: METHOD }));
    answer(c, reverse(await challenged(c)));
    assert.equal((await c.next()).cmd, "connack");

    c.send({
      cmd: "auth",
      reasonCode: ReasonCode.ReAuthenticate,
      properties: { authenticationMethod: METHOD },
    });
    const nonce = await challenged(c);
    answer(c, reverse(nonce));
    const done = (await c.next()) as AuthPacket;
    assert.equal(done.cmd, "auth");
    assert.equal(done.reasonCode, ReasonCode.Success);
    assert.equal(done.properties?.authenticationMethod, METHOD);
    // Still connected.
    c.send({ cmd: "pingreq" });
    await c.next("pingresp");
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 enhanced auth: a failed re-authentication disconnects with 0x87", { timeout: 10_000 }, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-re-bad", { authenticationMethod: METHOD }));
    answer(c, reverse(await challenged(c)));
    assert.equal((await c.next()).cmd, "connack");
    c.send({
      cmd: "auth",
      reasonCode: ReasonCode.ReAuthenticate,
      properties: { authenticationMethod: METHOD },
    });
    answer(c, Buffer.from("wrong"));
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.NotAuthorized);
    await c.closed;
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 AUTH from a client that connected without a method is a protocol error", {
  timeout: 10_000,
}, async () => {
  const b = await startBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("ea-none"));
    await c.next("connack");
    c.send({
      cmd: "auth",
      reasonCode: ReasonCode.ReAuthenticate,
      properties: { authenticationMethod: METHOD },
    });
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.ProtocolError);
    await c.closed;
  } finally {
    c.destroy();
    await b.close();
  }
});
