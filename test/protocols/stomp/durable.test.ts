/**
 * Durable topic subscriptions (`durable:true` with an `id`): they keep collecting messages while
 * their client is away and across a broker restart (a new broker on the same store), and go only
 * when unsubscribed with `durable:true`. Queues keep persistent messages across a restart.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { startTestBroker } from "../../helpers/broker.js";
import { connect as mqttConnect } from "../../helpers/mqtt-client.js";
import { RawStomp } from "../../helpers/raw-stomp.js";

const LOGIN: Array<[string, string]> = [["client-id", "dash-1"]];

test("a durable subscription collects messages while its client is away and across a broker restart", {
  timeout: 30_000,
}, async () => {
  const store = new MemoryStore();
  let b = await startTestBroker({ store });
  try {
    const { client: first } = await RawStomp.connect(b.stompPort, LOGIN);
    first.send("SUBSCRIBE", [
      ["id", "alarms"],
      ["destination", "/topic/alarms.#"],
      ["durable", "true"],
      ["ack", "client"],
      ["receipt", "s"],
    ]);
    await first.waitReceipt("s");
    first.send("DISCONNECT", [["receipt", "d"]]);
    await first.waitReceipt("d");

    // While it is away: one from MQTT (QoS 1), one persistent one from STOMP.
    const mqtt = await mqttConnect(b.mqttUrl);
    await mqtt.publishAsync("alarms/boiler", "hot", { qos: 1 });
    await mqtt.endAsync();
    const { client: pub } = await RawStomp.connect(b.stompPort);
    pub.send(
      "SEND",
      [
        ["destination", "/topic/alarms.door"],
        ["persistent", "true"],
        ["receipt", "p"],
      ],
      "open",
    );
    await pub.waitReceipt("p");
    pub.destroy();

    await b.close();
    b = await startTestBroker({ store });
    // After the restart, before the client is back: still collecting.
    const { client: pub2 } = await RawStomp.connect(b.stompPort);
    pub2.send(
      "SEND",
      [
        ["destination", "/topic/alarms.gas"],
        ["persistent", "true"],
        ["receipt", "p2"],
      ],
      "leak",
    );
    await pub2.waitReceipt("p2");
    pub2.destroy();

    const { client: back } = await RawStomp.connect(b.stompPort, LOGIN);
    back.send("SUBSCRIBE", [
      ["id", "alarms"],
      ["destination", "/topic/alarms.#"],
      ["durable", "true"],
      ["ack", "client"],
    ]);
    const ms = await back.waitMessages(3);
    assert.deepEqual(
      ms.map((m) => m.body.toString()),
      ["hot", "open", "leak"],
    );
    assert.deepEqual(
      ms.map((m) => header(m, "destination")),
      ["/topic/alarms.boiler", "/topic/alarms.door", "/topic/alarms.gas"],
    );
    back.send("ACK", [
      ["id", header(ms[2]!, "ack")!],
      ["receipt", "a"],
    ]);
    await back.waitReceipt("a");

    // Unsubscribed with durable:true: the subscription and its queue are gone.
    back.send("UNSUBSCRIBE", [
      ["id", "alarms"],
      ["durable", "true"],
      ["receipt", "u"],
    ]);
    await back.waitReceipt("u");
    assert.equal([...b.handle.router.queues].length, 0);
    assert.equal(
      [...b.handle.router.sessions.keys()].filter((k) => k.startsWith("$stomp-durable/")).length,
      0,
    );
    back.destroy();
  } finally {
    await b.close();
  }
});

test("a plain UNSUBSCRIBE keeps a durable subscription; a second client-id has its own", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client: a } = await RawStomp.connect(b.stompPort, LOGIN);
    a.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/d.x"],
      ["durable", "true"],
    ]);
    a.send("UNSUBSCRIBE", [
      ["id", "s"],
      ["receipt", "u"],
    ]);
    await a.waitReceipt("u");
    const { client: other } = await RawStomp.connect(b.stompPort, [["client-id", "dash-2"]]);
    other.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/d.x"],
      ["durable", "true"],
      ["receipt", "s2"],
    ]);
    await other.waitReceipt("s2");
    other.send("SEND", [["destination", "/topic/d.x"]], "m");
    await other.waitMessages(1);
    a.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/d.x"],
      ["durable", "true"],
    ]);
    const [m] = await a.waitMessages(1);
    assert.equal(m!.body.toString(), "m", "kept while unsubscribed");
    a.destroy();
    other.destroy();
  } finally {
    await b.close();
  }
});

test("persistent messages in a /queue/ survive a broker restart; transient ones do not", {
  timeout: 20_000,
}, async () => {
  const store = new MemoryStore();
  let b = await startTestBroker({ store });
  try {
    const { client: pub } = await RawStomp.connect(b.stompPort);
    pub.send(
      "SEND",
      [
        ["destination", "/queue/orders"],
        ["persistent", "true"],
      ],
      "kept",
    );
    pub.send("SEND", [["destination", "/queue/orders"]], "transient");
    pub.send(
      "SEND",
      [
        ["destination", "/queue/orders"],
        ["persistent", "true"],
        ["receipt", "r"],
      ],
      "kept-too",
    );
    await pub.waitReceipt("r");
    // One delivered and unacknowledged at the restart: it comes back redelivered.
    const { client: c } = await RawStomp.connect(b.stompPort);
    c.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/queue/orders"],
      ["ack", "client-individual"],
      ["prefetch-count", "1"],
    ]);
    await c.waitMessages(1);
    await b.close();
    b = await startTestBroker({ store });
    const { client: c2 } = await RawStomp.connect(b.stompPort);
    c2.send("SUBSCRIBE", [
      ["id", "1"],
      ["destination", "/queue/orders"],
    ]);
    const ms = await c2.waitMessages(2);
    assert.deepEqual(
      ms.map((m) => m.body.toString()),
      ["kept", "kept-too"],
    );
    assert.equal(header(ms[0]!, "redelivered"), "true");
    assert.equal(header(ms[1]!, "redelivered"), undefined);
    c2.destroy();
  } finally {
    await b.close();
  }
});

test("a durable subscription keeps at most mqtt.maxQueuedMessages while away, the oldest dropped", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker({ mqtt: { maxQueuedMessages: 5 } });
  try {
    const { client: a } = await RawStomp.connect(b.stompPort, LOGIN);
    a.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/bounded"],
      ["durable", "true"],
      ["receipt", "r"],
    ]);
    await a.waitReceipt("r");
    a.destroy();
    const { client: pub } = await RawStomp.connect(b.stompPort);
    for (let i = 0; i < 10; i++) pub.send("SEND", [["destination", "/topic/bounded"]], String(i));
    pub.send(
      "SEND",
      [
        ["destination", "/topic/other"],
        ["receipt", "p"],
      ],
      "",
    );
    await pub.waitReceipt("p");
    const { client: back } = await RawStomp.connect(b.stompPort, LOGIN);
    back.send("SUBSCRIBE", [
      ["id", "s"],
      ["destination", "/topic/bounded"],
      ["durable", "true"],
    ]);
    const ms = await back.waitMessages(5);
    assert.deepEqual(
      ms.map((m) => m.body.toString()),
      ["5", "6", "7", "8", "9"],
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(back.messages().length, 5);
    back.destroy();
    pub.destroy();
  } finally {
    await b.close();
  }
});

test("resubscribing a durable subscription to another topic moves it there", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client: a } = await RawStomp.connect(b.stompPort, LOGIN);
    a.send("SUBSCRIBE", [
      ["id", "m"],
      ["destination", "/topic/first"],
      ["durable", "true"],
      ["receipt", "r"],
    ]);
    await a.waitReceipt("r");
    a.destroy();
    const { client: again } = await RawStomp.connect(b.stompPort, LOGIN);
    again.send("SUBSCRIBE", [
      ["id", "m"],
      ["destination", "/topic/second"],
      ["durable", "true"],
      ["receipt", "r2"],
    ]);
    await again.waitReceipt("r2");
    again.send("SEND", [["destination", "/topic/first"]], "old");
    again.send(
      "SEND",
      [
        ["destination", "/topic/second"],
        ["receipt", "p"],
      ],
      "new",
    );
    await again.waitReceipt("p");
    const [m] = await again.waitMessages(1);
    assert.equal(m!.body.toString(), "new");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(again.messages().length, 1);
    again.destroy();
  } finally {
    await b.close();
  }
});
