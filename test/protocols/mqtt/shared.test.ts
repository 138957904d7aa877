import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { open, until, withBroker } from "./util.js";

for (const protocolVersion of [4, 5] as const) {
  test(
    `MQTT ${protocolVersion}: $share group delivers round-robin among live members`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const m1 = await open(b.mqttUrl, { protocolVersion, clientId: "m1" });
        const m2 = await open(b.mqttUrl, { protocolVersion, clientId: "m2" });
        clients.push(m1.client, m2.client);
        await m1.client.subscribeAsync("$share/g/s/+", { qos: 1 });
        await m2.client.subscribeAsync("$share/g/s/+", { qos: 1 });
        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        for (let i = 0; i < 10; i++) await pub.publishAsync("s/t", String(i), { qos: 1 });
        await until(() => m1.got.messages.length + m2.got.messages.length >= 10, 3000, "10 messages");
        assert.equal(m1.got.messages.length, 5);
        assert.equal(m2.got.messages.length, 5);
        const all = [...m1.got.messages, ...m2.got.messages].map((m) => Number(m.payload.toString()));
        assert.deepEqual(
          all.sort((x, y) => x - y),
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
      }),
  );

  test(
    `MQTT ${protocolVersion}: messages for a group of offline persistent members wait for one to return`,
    {
      timeout: 10_000,
    },
    () =>
      withBroker(async (b, clients) => {
        const opts =
          protocolVersion === 5
            ? { protocolVersion, clientId: "m1", clean: false, properties: { sessionExpiryInterval: 300 } }
            : { protocolVersion, clientId: "m1", clean: false };
        const m1 = await open(b.mqttUrl, opts);
        clients.push(m1.client);
        await m1.client.subscribeAsync("$share/g/q/t", { qos: 1 });
        await endClient(m1.client);
        await until(() => !b.handle.router.sessions.get("m1")?.connection, 3000, "detach");

        const pub = await connect(b.mqttUrl, { protocolVersion, clientId: "pub" });
        clients.push(pub);
        for (let i = 0; i < 3; i++) await pub.publishAsync("q/t", String(i), { qos: 1 });

        const back = await open(b.mqttUrl, opts);
        clients.push(back.client);
        assert.equal(back.connack.sessionPresent, true);
        const ms = await back.got.next(3);
        assert.deepEqual(
          ms.map((m) => m.payload.toString()),
          ["0", "1", "2"],
        );
      }),
  );
}
