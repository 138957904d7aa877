/** Content filters on CoAP (docs/filters.md): `?filter=<selector>` on an Observe registration. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestBroker } from "../../helpers/broker.js";
import { connect, endClient } from "../../helpers/mqtt-client.js";
import { closeAgent, coapRequest, newAgent } from "./helpers.js";

test("CoAP observe with ?filter=: only matching publishes are notified; a bad filter is 4.00", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const agent = newAgent();
  const pub = await connect(b.mqttUrl);
  try {
    const bad = await coapRequest({
      agent,
      port: b.coapPort,
      pathname: "/ps/plant/temp",
      observe: true,
      query: `filter=${encodeURIComponent("temperature >")}`,
    });
    assert.equal(bad.code, "4.00");
    assert.match(String(bad.payload ?? ""), /filter: expected a value/);

    const stream = (await coapRequest({
      agent,
      port: b.coapPort,
      pathname: "/ps/plant/temp",
      observe: true,
      query: `filter=${encodeURIComponent("temperature > 30")}`,
    })) as unknown as import("coap").ObserveReadStream;
    const values: string[] = [];
    stream.on("data", (d: Buffer) => values.push(d.toString()));
    await new Promise((r) => setTimeout(r, 200)); // the registration's own (empty) answer
    const before = values.length;
    for (const t of [25, 35, 20, 40]) {
      await pub.publishAsync("plant/temp", JSON.stringify({ temperature: t }), { qos: 1 });
    }
    const deadline = Date.now() + 5000;
    while (values.length < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      values.slice(before).map((v) => JSON.parse(v).temperature),
      [35, 40],
    );
    stream.close();
  } finally {
    await endClient(pub, true);
    closeAgent(agent);
    await b.close();
  }
});
