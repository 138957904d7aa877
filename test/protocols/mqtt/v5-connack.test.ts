/** MQTT 5 CONNACK properties (§3.2.2.3): limits, assigned client id, server keep alive, session expiry. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { endClient } from "../../helpers/mqtt-client.js";
import { connect5 } from "./v5-helpers.js";

test("v5 CONNACK announces Receive Maximum, Maximum Packet Size and Topic Alias Maximum", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxInflight: 42, maxPacketSize: 50_000, maxTopicAlias: 7 } });
  try {
    const { client, connack } = await connect5(b.mqttUrl, { clientId: "limits" });
    try {
      assert.equal(connack.reasonCode, 0);
      assert.equal(connack.properties?.receiveMaximum, 42);
      assert.equal(connack.properties?.maximumPacketSize, 50_000);
      assert.equal(connack.properties?.topicAliasMaximum, 7);
      assert.equal(connack.properties?.assignedClientIdentifier, undefined);
    } finally {
      await endClient(client);
    }
  } finally {
    await b.close();
  }
});

test("v5 empty client id gets an Assigned Client Identifier that works", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client, connack } = await connect5(b.mqttUrl, { clientId: "", clean: true });
    try {
      const assigned = connack.properties?.assignedClientIdentifier;
      assert.equal(typeof assigned, "string");
      assert.ok(assigned!.length > 0);
      assert.ok(b.handle.router.sessions.has(assigned!));
      await client.subscribeAsync("assigned/t", { qos: 1 });
      const got = new Promise<string>((resolve) => client.once("message", (t) => resolve(t)));
      await client.publishAsync("assigned/t", "x", { qos: 1 });
      assert.equal(await got, "assigned/t");
    } finally {
      await endClient(client);
    }
  } finally {
    await b.close();
  }
});

for (const keepalive of [0, 60]) {
  test(`v5 Server Keep Alive: keepAliveMax 10 overrides a client keep alive of ${keepalive}`, {
    timeout: 10_000,
  }, async () => {
    const b = await startTestBroker({ mqtt: { keepAliveMax: 10 } });
    try {
      const { client, connack } = await connect5(b.mqttUrl, { clientId: `ka${keepalive}`, keepalive });
      try {
        assert.equal(connack.properties?.serverKeepAlive, 10);
      } finally {
        await endClient(client);
      }
    } finally {
      await b.close();
    }
  });
}

test("v5 Server Keep Alive is not sent when the client's keep alive is within the maximum", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { keepAliveMax: 10 } });
  try {
    const { client, connack } = await connect5(b.mqttUrl, { clientId: "ka5", keepalive: 5 });
    try {
      assert.equal(connack.properties?.serverKeepAlive, undefined);
    } finally {
      await endClient(client);
    }
  } finally {
    await b.close();
  }
});

test("v5 Session Expiry Interval above mqtt.maxSessionExpiry is capped and returned", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxSessionExpiry: 30 } });
  try {
    const { client, connack } = await connect5(b.mqttUrl, {
      clientId: "capped",
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    try {
      assert.equal(connack.properties?.sessionExpiryInterval, 30);
      assert.equal(b.handle.router.sessions.get("capped")?.expiryInterval, 30);
    } finally {
      await endClient(client);
    }
    const { client: c2, connack: ack2 } = await connect5(b.mqttUrl, {
      clientId: "within",
      properties: { sessionExpiryInterval: 20 },
    });
    try {
      // Within the cap: nothing to tell the client.
      assert.equal(ack2.properties?.sessionExpiryInterval, undefined);
    } finally {
      await endClient(c2);
    }
  } finally {
    await b.close();
  }
});
