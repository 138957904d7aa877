/**
 * One topic space (DESIGN.md): WAMP `a.b.c` is MQTT `a/b/c`. WAMP events reach MQTT.js subscribers
 * (exact and with wildcards) and MQTT messages reach WAMP subscribers, with the payload mapping of
 * docs/wamp.md; a payload crosses MQTT -> WAMP -> MQTT unchanged for text, JSON and binary.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { MqttClient } from "mqtt";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { collect, connect, endClient } from "../../helpers/mqtt-client.js";
import { type AutobahnClient, delay, joinAutobahn, RawWamp, until, VARIANTS } from "../../helpers/wamp.js";

describe("WAMP and MQTT share one topic space", () => {
  let b: TestBroker;
  let mqtt: MqttClient;
  let wamp: AutobahnClient;
  before(async () => {
    b = await startTestBroker();
    mqtt = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "x-mqtt" });
    wamp = await joinAutobahn(b, VARIANTS[1]!); // WebSocket/MessagePack: binary-capable
  });
  after(async () => {
    await endClient(mqtt);
    await wamp.close();
    await b.close();
  });

  test("a WAMP publish to a.b.c reaches MQTT subscribers of a/b/c and a/+/c, with the mapped payload", async () => {
    const got = collect(mqtt);
    await mqtt.subscribeAsync(["x1/b/c", "x1/+/c"], { qos: 0 });
    await wamp.session.publish("x1.b.c", ["hello"], undefined, { acknowledge: true });
    await wamp.session.publish("x1.b.c", [{ t: 21.5 }], undefined, { acknowledge: true });
    await wamp.session.publish("x1.b.c", [Buffer.from([0, 0xff])], undefined, { acknowledge: true });
    await wamp.session.publish("x1.b.c", [1, 2], { k: "v" }, { acknowledge: true });
    const m = await got.next(8);
    assert.ok(m.every((x) => x.topic === "x1/b/c"));
    const once = m.filter((_, i) => i % 2 === 0); // each message arrives once per subscription
    assert.equal(once[0]!.payload.toString(), "hello");
    assert.equal(once[0]!.packet.properties?.payloadFormatIndicator, true);
    assert.equal(once[1]!.payload.toString(), '{"t":21.5}');
    assert.equal(once[1]!.packet.properties?.contentType, "application/json");
    assert.deepEqual([...once[2]!.payload], [0, 0xff]);
    assert.equal(once[3]!.payload.toString(), '[[1,2],{"k":"v"}]');
    assert.equal(once[3]!.packet.properties?.contentType, "application/x-wamp+json");
    await mqtt.unsubscribeAsync(["x1/b/c", "x1/+/c"]);
  });

  test("an MQTT publish reaches WAMP subscribers (exact, wildcard, prefix), mapped by content type", async () => {
    const events: Array<{ args: unknown[]; topic?: string }> = [];
    await wamp.session.subscribe("x2.dev.temp", (args: unknown[]) => events.push({ args }));
    await wamp.session.subscribe(
      "x2..temp",
      (args: unknown[], _k: unknown, d: { topic: string }) => events.push({ args, topic: d.topic }),
      { match: "wildcard" },
    );
    await mqtt.publishAsync("x2/dev/temp", "21.5");
    await mqtt.publishAsync("x2/dev/temp", '{"t":21.5}', { properties: { contentType: "application/json" } });
    await mqtt.publishAsync("x2/dev/temp", Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await mqtt.publishAsync("x2/dev/temp", "");
    await until(() => events.length === 8, "8 events");
    const exact = events.filter((e) => e.topic === undefined).map((e) => e.args);
    assert.deepEqual(exact[0], ["21.5"]);
    assert.deepEqual(exact[1], [{ t: 21.5 }]);
    assert.deepEqual(Buffer.from(exact[2]![0] as Uint8Array), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(exact[3] ?? [], []);
    assert.ok(events.filter((e) => e.topic !== undefined).every((e) => e.topic === "x2.dev.temp"));
  });

  test("dots and slashes swap: WAMP x3.a/b is MQTT x3/a.b, both ways", async () => {
    const got = collect(mqtt);
    await mqtt.subscribeAsync("x3/a.b", { qos: 0 });
    await wamp.session.publish("x3.a/b", ["swap"], undefined, { acknowledge: true });
    const [m] = await got.next(1);
    assert.equal(m!.topic, "x3/a.b");
    await mqtt.unsubscribeAsync("x3/a.b");
  });

  for (const serializer of ["msgpack", "json"] as const) {
    test(`round trip MQTT -> WAMP (${serializer}) -> MQTT leaves text, JSON and binary payloads unchanged`, async () => {
      // The WAMP side relays whatever it receives on rt.in, args and kwargs as they came.
      const relay = await RawWamp.ws(b, serializer);
      await relay.hello();
      relay.send([32, 1, {}, `rt.${serializer}.in`]);
      assert.equal((await relay.next())[0], 33);
      const sink = await connect(b.mqttUrl, { protocolVersion: 5, clientId: `rt-${serializer}` });
      const got = collect(sink);
      await sink.subscribeAsync(`rt/${serializer}/out`, { qos: 0 });
      const source = await connect(b.mqttUrl, { protocolVersion: 5 });
      const cases: Array<{ payload: Buffer; contentType?: string }> = [
        { payload: Buffer.from("plain text, ünïcödé ✓") },
        {
          payload: Buffer.from('{"sensor":"t1","values":[1,2.5,null,true],"nested":{"a":"b"}}'),
          contentType: "application/json",
        },
        { payload: Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f, 0xc3]) },
        { payload: Buffer.from("[1,2,3]"), contentType: "application/json" },
      ];
      for (const c of cases) {
        await source.publishAsync(
          `rt/${serializer}/in`,
          c.payload,
          c.contentType ? { properties: { contentType: c.contentType } } : {},
        );
        const ev = await relay.next();
        assert.equal(ev[0], 36);
        relay.send([16, 2, {}, `rt.${serializer}.out`, ...ev.slice(4)]);
      }
      const out = await got.next(cases.length);
      for (let i = 0; i < cases.length; i++) {
        assert.deepEqual(out[i]!.payload, cases[i]!.payload, `case ${i} payload`);
        assert.equal(out[i]!.packet.properties?.contentType, cases[i]!.contentType, `case ${i} content type`);
      }
      relay.close();
      await endClient(source);
      await endClient(sink);
    });
  }

  test("RPC and PubSub together: an MQTT subscriber watches what a WAMP callee publishes while serving calls", async () => {
    const got = collect(mqtt);
    await mqtt.subscribeAsync("x4/log", { qos: 0 });
    await wamp.session.register("com.x4.work", async (args: number[]) => {
      await wamp.session.publish("x4.log", [`work ${args[0]}`], undefined, { exclude_me: false });
      return args[0]! * 2;
    });
    const caller = await joinAutobahn(b, VARIANTS[3]!);
    assert.equal(await caller.session.call("com.x4.work", [21]), 42);
    const [m] = await got.next(1);
    assert.equal(m!.payload.toString(), "work 21");
    await caller.close();
    await delay(10);
  });
});
