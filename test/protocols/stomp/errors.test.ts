/**
 * Bad input (issue "Bad input"): each case gets an ERROR frame whose `message` says which, then the
 * connection is closed; nothing acknowledged is lost and other clients are unaffected.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { header } from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";

const CASES: Array<{
  name: string;
  frame: string | Buffer;
  message: RegExp | string;
  version?: "1.0" | "1.1" | "1.2";
}> = [
  { name: "unknown command", frame: "FLY\n\n\0", message: "unknown command FLY" },
  {
    name: "server frame from a client",
    frame: "MESSAGE\ndestination:/topic/a\n\n\0",
    message: "unknown command MESSAGE",
  },
  {
    name: "NACK in 1.0",
    frame: "NACK\nmessage-id:1-1\n\n\0",
    message: "unknown command NACK",
    version: "1.0",
  },
  {
    name: "lower-case command",
    frame: "send\ndestination:/topic/a\n\n\0",
    message: /malformed frame \(bad-command\)/,
  },
  { name: "SEND without destination", frame: "SEND\n\nx\0", message: "missing header 'destination'" },
  {
    name: "SUBSCRIBE without id (1.2)",
    frame: "SUBSCRIBE\ndestination:/topic/a\n\n\0",
    message: "missing header 'id'",
  },
  {
    name: "SUBSCRIBE without destination",
    frame: "SUBSCRIBE\nid:1\n\n\0",
    message: "missing header 'destination'",
  },
  { name: "UNSUBSCRIBE of an unknown id", frame: "UNSUBSCRIBE\nid:9\n\n\0", message: "unknown subscription" },
  { name: "ACK without id (1.2)", frame: "ACK\n\n\0", message: "missing header 'id'" },
  {
    name: "ACK with subscription but without message-id (1.1)",
    frame: "ACK\nsubscription:1\n\n\0",
    message: "missing header 'message-id'",
    version: "1.1",
  },
  { name: "ACK of an unknown message", frame: "ACK\nid:77-3\n\n\0", message: "unknown message" },
  { name: "BEGIN without transaction", frame: "BEGIN\n\n\0", message: "missing header 'transaction'" },
  {
    name: "COMMIT of an unknown transaction",
    frame: "COMMIT\ntransaction:t9\n\n\0",
    message: "unknown transaction",
  },
  {
    name: "SEND in an unknown transaction",
    frame: "SEND\ndestination:/topic/a\ntransaction:t9\n\n\0",
    message: "unknown transaction",
  },
  {
    name: "bad escape",
    frame: "SEND\ndestination:/topic/a\nx:\\t\n\n\0",
    message: /malformed frame \(bad-escape\)/,
  },
  {
    name: "content-length disagreeing with the body",
    frame: "SEND\ndestination:/topic/a\ncontent-length:2\n\nabc\0",
    message: /content-length-mismatch/,
  },
  {
    name: "content-length not a number",
    frame: "SEND\ndestination:/topic/a\ncontent-length:x\n\n\0",
    message: /bad-content-length/,
  },
  { name: "header without colon", frame: "SEND\ndestination\n\n\0", message: /bad-header/ },
  {
    name: "frame over the size limit",
    frame: `SEND\ndestination:/topic/a\n\n${"x".repeat(3000)}\0`,
    message: /frame-too-large/,
  },
  {
    name: "content-length over the size limit",
    frame: "SEND\ndestination:/topic/a\ncontent-length:999999\n\n",
    message: /frame-too-large/,
  },
  { name: "unknown destination", frame: "SEND\ndestination:/weird/a\n\n\0", message: "bad destination" },
  {
    name: "unknown exchange",
    frame: "SEND\ndestination:/exchange/amq.direct/a\n\n\0",
    message: "bad destination",
  },
  {
    name: "wildcard # in a SEND topic",
    frame: "SEND\ndestination:/topic/a.#\n\n\0",
    message: "bad destination",
  },
  {
    name: "# not last in a SUBSCRIBE",
    frame: "SUBSCRIBE\nid:1\ndestination:/topic/a.#.b\n\n\0",
    message: "bad destination",
  },
  {
    name: "bad ack mode",
    frame: "SUBSCRIBE\nid:1\ndestination:/queue/a\nack:sometimes\n\n\0",
    message: "bad ack mode",
  },
  {
    name: "bad prefetch-count",
    frame: "SUBSCRIBE\nid:1\ndestination:/queue/a\nprefetch-count:-1\n\n\0",
    message: "bad prefetch-count",
  },
  {
    name: "second CONNECT",
    frame: "CONNECT\naccept-version:1.2\nhost:/\n\n\0",
    message: "already connected",
  },
];

test("bad input: an ERROR frame naming the problem, the connection closed, others unaffected", {
  timeout: 60_000,
}, async () => {
  const b = await startTestBroker({ stomp: { maxFrameSize: 2048 } });
  try {
    // A bystander with an unacknowledged persistent message, and a subscriber that must keep working.
    const { client: bystander } = await RawStomp.connect(b.stompPort);
    bystander.send("SUBSCRIBE", [
      ["id", "q"],
      ["destination", "/queue/safe"],
      ["ack", "client-individual"],
    ]);
    bystander.send("SUBSCRIBE", [
      ["id", "t"],
      ["destination", "/topic/still.#"],
      ["receipt", "ready"],
    ]);
    await bystander.waitReceipt("ready");
    bystander.send(
      "SEND",
      [
        ["destination", "/queue/safe"],
        ["persistent", "true"],
        ["receipt", "kept"],
      ],
      "precious",
    );
    await bystander.waitReceipt("kept");
    await bystander.waitMessages(1);

    for (const c of CASES) {
      const { client, connected } = await RawStomp.connect(b.stompPort, [], c.version ?? "1.2");
      assert.equal(connected.command, "CONNECTED");
      client.write(c.frame);
      const e = await client.waitCommand("ERROR").catch((err: Error) => {
        throw new Error(`${c.name}: ${err.message}`);
      });
      const message = header(e, "message") ?? "";
      if (typeof c.message === "string") assert.equal(message, c.message, c.name);
      else assert.match(message, c.message, c.name);
      assert.ok(e.body.length > 0, `${c.name}: the body says what was wrong`);
      await client.waitClose(5000);
    }

    // The bystander still works, and its unacked message is still its own.
    const q = b.handle.router.queues.find("safe")!;
    assert.equal(q.unackedCount, 1);
    const { client: pub } = await RawStomp.connect(b.stompPort);
    pub.send(
      "SEND",
      [
        ["destination", "/topic/still.here"],
        ["receipt", "p"],
      ],
      "alive",
    );
    await pub.waitReceipt("p");
    const ms = await bystander.waitMessages(2);
    assert.equal(ms[1]!.body.toString(), "alive");
    bystander.destroy();
    pub.destroy();
  } finally {
    await b.close();
  }
});

test("the first frame must be CONNECT; a silent connection is closed after connectTimeoutMs", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ stomp: { connectTimeoutMs: 300 } });
  try {
    const early = await RawStomp.open(b.stompPort);
    early.send("SEND", [["destination", "/topic/a"]], "x");
    const e = await early.waitCommand("ERROR");
    assert.equal(header(e, "message"), "expected CONNECT");
    await early.waitClose();
    const silent = await RawStomp.open(b.stompPort);
    const t0 = Date.now();
    const e2 = await silent.waitCommand("ERROR", 3000);
    assert.equal(header(e2, "message"), "no CONNECT");
    await silent.waitClose();
    assert.ok(Date.now() - t0 < 2500);
  } finally {
    await b.close();
  }
});

test("a duplicate subscription id is an error; RECEIPT for every frame with a receipt header", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const { client } = await RawStomp.connect(b.stompPort);
    const frames: Array<[string, Array<[string, string]>]> = [
      [
        "SUBSCRIBE",
        [
          ["id", "a"],
          ["destination", "/topic/x"],
        ],
      ],
      ["SEND", [["destination", "/topic/x"]]],
      ["BEGIN", [["transaction", "t"]]],
      [
        "SEND",
        [
          ["destination", "/topic/x"],
          ["transaction", "t"],
        ],
      ],
      ["ABORT", [["transaction", "t"]]],
      ["UNSUBSCRIBE", [["id", "a"]]],
    ];
    frames.forEach(([cmd, h], i) => {
      client.send(cmd, [...h, ["receipt", `r${i}`]]);
    });
    for (let i = 0; i < frames.length; i++) await client.waitReceipt(`r${i}`);
    const ids = client.frames.filter((f) => f.command === "RECEIPT").map((f) => header(f, "receipt-id"));
    assert.deepEqual(
      ids,
      frames.map((_, i) => `r${i}`),
      "in order",
    );
    client.send("SUBSCRIBE", [
      ["id", "b"],
      ["destination", "/topic/x"],
    ]);
    client.send("SUBSCRIBE", [
      ["id", "b"],
      ["destination", "/topic/y"],
    ]);
    const e = await client.waitCommand("ERROR");
    assert.equal(header(e, "message"), "duplicate subscription id");
    await client.waitClose();
  } finally {
    await b.close();
  }
});

test("DISCONNECT with receipt: RECEIPT, then the server closes", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client } = await RawStomp.connect(b.stompPort);
    client.send(
      "SEND",
      [
        ["destination", "/queue/d"],
        ["persistent", "true"],
      ],
      "before",
    );
    client.send("DISCONNECT", [["receipt", "bye"]]);
    await client.waitReceipt("bye");
    await client.waitClose();
    assert.equal(b.handle.router.queues.find("d")!.messageCount, 1, "the SEND before DISCONNECT was done");
  } finally {
    await b.close();
  }
});
