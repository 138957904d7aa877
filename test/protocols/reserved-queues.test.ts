/**
 * Queues whose names start with "$" are the broker's own (XMPP offline storage and rosters, STOMP
 * durable subscriptions): AMQP and STOMP clients cannot open, fill, purge or delete them by name.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import rhea from "rhea";
import { header } from "../../src/protocols/stomp/codec/frame.js";
import { startTestBroker } from "../helpers/broker.js";
import { RawStomp } from "../helpers/raw-stomp.js";
import { expectCode, open } from "./amqp091/amqp-client.js";

test("AMQP 0-9-1: '$' queue names are refused with 403; the default exchange does not reach them", {
  timeout: 20_000,
}, async () => {
  const b = await startTestBroker();
  const owned = b.handle.router.queues.declare("$xmpp/offline/alice@localhost", {
    durable: false,
    autoDelete: false,
  });
  try {
    for (const op of [
      (ch: Awaited<ReturnType<typeof open>>["ch"]) => ch.assertQueue("$xmpp/offline/alice@localhost"),
      (ch: Awaited<ReturnType<typeof open>>["ch"]) => ch.checkQueue("$xmpp/offline/alice@localhost"),
      (ch: Awaited<ReturnType<typeof open>>["ch"]) => ch.purgeQueue("$xmpp/offline/alice@localhost"),
      (ch: Awaited<ReturnType<typeof open>>["ch"]) => ch.consume("$xmpp/offline/alice@localhost", () => {}),
    ]) {
      const { conn, ch } = await open(b.amqpUrl);
      ch.on("error", () => {});
      await expectCode(op(ch), 403);
      await conn.close().catch(() => {});
    }
    const { conn, ch } = await open(b.amqpUrl);
    const returned = new Promise<boolean>((r) => ch.once("return", () => r(true)));
    ch.publish("", "$xmpp/offline/alice@localhost", Buffer.from("x"), { mandatory: true });
    assert.equal(await returned, true, "unroutable: returned to the publisher");
    assert.equal(owned.messageCount, 0);
    await conn.close();
  } finally {
    await b.close();
  }
});

test("STOMP: '$' queue names are refused with an ERROR", { timeout: 20_000 }, async () => {
  const b = await startTestBroker();
  try {
    const { client } = await RawStomp.connect(b.stompPort);
    client.send("SUBSCRIBE", [
      ["id", "0"],
      ["destination", "/queue/$xmpp/offline/alice@localhost"],
    ]);
    const err = await client.waitCommand("ERROR");
    assert.equal(header(err, "message"), "bad destination");
    assert.match(err.body.toString(), /reserved/);
    client.destroy();
  } finally {
    await b.close();
  }
});

test("AMQP 1.0: a link to a '$' queue is refused", { timeout: 20_000 }, async () => {
  const b = await startTestBroker();
  const container = rhea.create_container();
  const conn = container.connect({ host: "127.0.0.1", port: b.amqpPort, reconnect: false });
  try {
    const refused = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no refusal")), 10_000);
      const receiver = conn.open_receiver("/queue/$xmpp/offline/alice@localhost");
      receiver.on("receiver_close", (ctx: rhea.EventContext) => {
        clearTimeout(timer);
        resolve(
          String(ctx.receiver?.error ? (ctx.receiver.error as { description?: string }).description : ""),
        );
      });
      receiver.on("receiver_error", () => {});
    });
    assert.match(refused, /reserved/);
  } finally {
    conn.close();
    await b.close();
  }
});
