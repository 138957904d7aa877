/** MQTT 5 server-initiated DISCONNECT (§3.14, §4.13) and DISCONNECT session expiry rules. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ReasonCode } from "../../../src/protocols/mqtt/codec/packets.js";
import { startTestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { connect5, connectPacket, nextDisconnect, rawConnect } from "./v5-helpers.js";

test("v5 broker shutdown sends DISCONNECT 0x8B Server shutting down", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  let closed = false;
  const { client } = await connect5(b.mqttUrl, { clientId: "bye" });
  try {
    const reason = nextDisconnect(client);
    const closeEvent = new Promise<void>((resolve) => client.once("close", () => resolve()));
    await b.close();
    closed = true;
    assert.equal(await reason, ReasonCode.ServerShuttingDown);
    await closeEvent;
  } finally {
    await endClient(client, true);
    if (!closed) await b.close();
  }
});

test("v5 broker shutdown: raw client sees DISCONNECT 0x8B then the socket closes", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  let closed = false;
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("bye-raw"));
    await c.next("connack");
    await b.close();
    closed = true;
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.ServerShuttingDown);
    await c.closed;
  } finally {
    c.destroy();
    if (!closed) await b.close();
  }
});

test("v5 session takeover sends DISCONNECT 0x8E to the old connection", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const first = await connect5(b.mqttUrl, { clientId: "twin" });
  let second: Awaited<ReturnType<typeof connect5>> | undefined;
  try {
    const reason = nextDisconnect(first.client);
    second = await connect5(b.mqttUrl, { clientId: "twin" });
    assert.equal(await reason, ReasonCode.SessionTakenOver);
    assert.equal(second.client.connected, true);
  } finally {
    await endClient(first.client, true);
    if (second) await endClient(second.client);
    await b.close();
  }
});

test("v5 DISCONNECT with a session expiry after 0 in CONNECT is a protocol error [MQTT-3.14.2-2]", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("se0"));
    await c.next("connack");
    c.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 10 } });
    const d = await c.next("disconnect");
    assert.equal(d.cmd === "disconnect" && d.reasonCode, ReasonCode.ProtocolError);
    await c.closed;
    // The session still ended with the connection.
    assert.equal(b.handle.router.sessions.has("se0"), false);
  } finally {
    c.destroy();
    await b.close();
  }
});

test("v5 DISCONNECT may change a non-zero session expiry", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  const c = await rawConnect(b.mqttPort);
  try {
    c.send(connectPacket("se10", { sessionExpiryInterval: 10 }));
    await c.next("connack");
    c.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await c.closed;
    assert.equal(c.received.filter((p) => p.cmd === "disconnect").length, 0);
    // Expiry 0 on DISCONNECT: the session ends now.
    assert.equal(b.handle.router.sessions.has("se10"), false);
  } finally {
    c.destroy();
    await b.close();
  }
});
