/**
 * PubSub with autobahn, over WebSocket and RawSocket with JSON, MessagePack and CBOR: WAMP §11 and
 * the advanced profile ("Publisher Exclusion", "Publisher Identification", "Subscriber
 * Black- and Whitelisting", "Pattern-based Subscriptions", "Event Retention").
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { type AutobahnClient, delay, joinAutobahn, VARIANTS } from "../../helpers/wamp.js";

interface Received {
  args: unknown[] | undefined;
  kwargs: unknown;
  details: { topic?: string; publisher?: number; publisher_authrole?: string; retained?: boolean };
}

function collector(): {
  events: Received[];
  handler: (a: unknown[], k: unknown, d: Received["details"]) => void;
} {
  const events: Received[] = [];
  return { events, handler: (args, kwargs, details) => events.push({ args, kwargs, details }) };
}

async function settle(): Promise<void> {
  await delay(60);
}

for (const v of VARIANTS) {
  describe(`PubSub with autobahn over ${v.name}`, () => {
    let b: TestBroker;
    let pub: AutobahnClient;
    let sub: AutobahnClient;
    before(async () => {
      b = await startTestBroker();
      pub = await joinAutobahn(b, v);
      sub = await joinAutobahn(b, v);
    });
    after(async () => {
      await pub.close();
      await sub.close();
      await b.close();
    });

    test("WAMP §11: PUBLISH reaches the subscriber as EVENT with args and kwargs; acknowledge returns PUBLISHED", async () => {
      const c = collector();
      await sub.session.subscribe("com.ps.basic", c.handler);
      const ack = await pub.session.publish(
        "com.ps.basic",
        [1, "two", { three: 3 }],
        { four: [4] },
        { acknowledge: true },
      );
      assert.ok(Number.isInteger(ack.id) && ack.id > 0);
      await settle();
      assert.equal(c.events.length, 1);
      assert.deepEqual(c.events[0]!.args, [1, "two", { three: 3 }]);
      assert.deepEqual(c.events[0]!.kwargs, { four: [4] });
      await pub.session.publish("com.ps.basic", ["text"]);
      await pub.session.publish("com.ps.basic", [42]);
      await pub.session.publish("com.ps.basic");
      await settle();
      assert.deepEqual(
        c.events.slice(1).map((e) => e.args ?? []),
        [["text"], [42], []],
      );
    });

    if (v.serializer !== "json") {
      test("binary arguments stay binary", async () => {
        const c = collector();
        await sub.session.subscribe("com.ps.binary", c.handler);
        const bytes = Buffer.from([0xff, 0, 0x80, 1]);
        await pub.session.publish("com.ps.binary", [bytes], undefined, { acknowledge: true });
        await settle();
        assert.deepEqual(Buffer.from(c.events[0]!.args![0] as Uint8Array), bytes);
      });
    }

    test("UNSUBSCRIBE: no more events", async () => {
      const c = collector();
      const s = await sub.session.subscribe("com.ps.unsub", c.handler);
      await pub.session.publish("com.ps.unsub", [1], undefined, { acknowledge: true });
      await settle();
      await sub.session.unsubscribe(s);
      await pub.session.publish("com.ps.unsub", [2], undefined, { acknowledge: true });
      await settle();
      assert.deepEqual(
        c.events.map((e) => e.args),
        [[1]],
      );
    });

    test("publisher exclusion: the publisher does not receive its own event unless exclude_me is false", async () => {
      const c = collector();
      await pub.session.subscribe("com.ps.self", c.handler);
      await pub.session.publish("com.ps.self", ["excluded"], undefined, { acknowledge: true });
      await pub.session.publish("com.ps.self", ["included"], undefined, {
        acknowledge: true,
        exclude_me: false,
      });
      await settle();
      assert.deepEqual(
        c.events.map((e) => e.args),
        [["included"]],
      );
    });

    test("publisher identification: disclose_me shows the publisher's session id and role", async () => {
      const c = collector();
      await sub.session.subscribe("com.ps.disclose", c.handler);
      await pub.session.publish("com.ps.disclose", ["a"], undefined, {
        acknowledge: true,
        disclose_me: true,
      });
      await pub.session.publish("com.ps.disclose", ["b"], undefined, { acknowledge: true });
      await settle();
      assert.equal(c.events[0]!.details.publisher, pub.session.id);
      assert.equal(c.events[0]!.details.publisher_authrole, "anonymous");
      assert.equal(c.events[1]!.details.publisher, undefined);
    });

    test("subscriber black- and whitelisting by session id, authid and authrole", async () => {
      const third = await joinAutobahn(b, v, { authid: "third-client" });
      try {
        const c2 = collector();
        const c3 = collector();
        await sub.session.subscribe("com.ps.lists", c2.handler);
        await third.session.subscribe("com.ps.lists", c3.handler);
        const publish = (arg: string, options: object) =>
          pub.session.publish("com.ps.lists", [arg], undefined, { acknowledge: true, ...options });
        await publish("exclude-sub", { exclude: [sub.session.id] });
        await publish("eligible-sub", { eligible: [sub.session.id] });
        await publish("exclude-authid", { exclude_authid: ["third-client"] });
        await publish("eligible-authid", { eligible_authid: ["third-client"] });
        await publish("exclude-role", { exclude_authrole: ["anonymous"] });
        await publish("eligible-role", { eligible_authrole: ["anonymous"] });
        await settle();
        assert.deepEqual(
          c2.events.map((e) => e.args![0]),
          ["eligible-sub", "exclude-authid", "eligible-role"],
        );
        assert.deepEqual(
          c3.events.map((e) => e.args![0]),
          ["exclude-sub", "eligible-authid", "eligible-role"],
        );
      } finally {
        await third.close();
      }
    });

    test("pattern-based subscriptions: prefix and wildcard, with the event's topic in the details", async () => {
      const prefix = collector();
      const wildcard = collector();
      await sub.session.subscribe("com.pat.sensors", prefix.handler, { match: "prefix" });
      await sub.session.subscribe("com.pat..temp", wildcard.handler, { match: "wildcard" });
      for (const t of [
        "com.pat.sensors.a",
        "com.pat.sensorsx",
        "com.pat.kitchen.temp",
        "com.pat.sensors.temp.x",
        "com.pat.sensors",
      ]) {
        await pub.session.publish(t, [t], undefined, { acknowledge: true });
      }
      await settle();
      assert.deepEqual(
        prefix.events.map((e) => e.details.topic),
        ["com.pat.sensors.a", "com.pat.sensorsx", "com.pat.sensors.temp.x", "com.pat.sensors"],
      );
      assert.deepEqual(
        wildcard.events.map((e) => e.details.topic),
        ["com.pat.kitchen.temp"],
      );
    });

    test("two subscriptions of one session that both match get one event each", async () => {
      const exact = collector();
      const wild = collector();
      await sub.session.subscribe("com.both.x", exact.handler);
      await sub.session.subscribe("com..x", wild.handler, { match: "wildcard" });
      await pub.session.publish("com.both.x", [1], undefined, { acknowledge: true });
      await settle();
      assert.equal(exact.events.length, 1);
      assert.equal(wild.events.length, 1);
    });

    test("event retention: retain keeps the last event; get_retained delivers it on subscribe", async () => {
      await pub.session.publish("com.ps.retained", ["old"], undefined, { acknowledge: true, retain: true });
      await pub.session.publish("com.ps.retained", ["last"], { k: 1 }, { acknowledge: true, retain: true });
      const c = collector();
      await sub.session.subscribe("com.ps.retained", c.handler, { get_retained: true });
      await settle();
      assert.equal(c.events.length, 1);
      assert.deepEqual(c.events[0]!.args, ["last"]);
      assert.deepEqual(c.events[0]!.kwargs, { k: 1 });
      assert.equal(c.events[0]!.details.retained, true);
      const plain = collector();
      await pub.session.subscribe("com.ps.retained", plain.handler);
      await settle();
      assert.equal(plain.events.length, 0, "no retained event without get_retained");
    });

    test("the same topic and match give the same subscription id to every session", async () => {
      const a = await sub.session.subscribe("com.ps.same", () => {});
      const c = await pub.session.subscribe("com.ps.same", () => {});
      assert.equal(a.id, c.id);
    });
  });
}
