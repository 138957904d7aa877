/** The one ACL on amq.topic, backpressure on slow consumers, AMQPS, and immediate=true. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqp from "amqplib";
import type { Auth, AuthResult, Credentials } from "../../../src/core/auth.js";
import { ReplyCode } from "../../../src/protocols/amqp091/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { hasOpenssl, selfSignedCert } from "../../transports/helpers.js";
import { open, sleep, until } from "./amqp-client.js";
import { RawAmqp } from "./raw-client.js";

/** Everyone may do everything except touch topics under secret/. */
class NoSecrets implements Auth {
  async authenticate(c: Credentials): Promise<AuthResult> {
    return {
      ok: true,
      principal: { username: c.username, clientId: c.clientId, protocol: c.protocol, anonymous: false },
    };
  }
  authorize(_p: unknown, _action: string, topic: string): boolean {
    return !topic.startsWith("secret/") && topic !== "#" && !topic.startsWith("secret");
  }
}

test("ACL: publishing to or binding on a denied amq.topic topic is 403 ACCESS_REFUSED", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ auth: new NoSecrets() });
  try {
    const { conn, ch } = await open(b.amqpUrl);
    const { queue } = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(queue, "amq.topic", "public.*");
    const err = new Promise<Error & { code?: number }>((resolve) => ch.once("error", resolve));
    ch.publish("amq.topic", "secret.plans", Buffer.from("x"));
    assert.equal((await err).code, ReplyCode.AccessRefused);
    const ch2 = await conn.createChannel();
    ch2.on("error", () => {});
    await assert.rejects(ch2.bindQueue(queue, "amq.topic", "secret.#"), /403/);
    await conn.close();
  } finally {
    await b.close();
  }
});

test("immediate=true is refused with 540 NOT_IMPLEMENTED (as RabbitMQ 3)", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const c = await RawAmqp.ready(b.amqpPort);
    c.method(1, "basic.publish", { exchange: "", routingKey: "q", immediate: true });
    const close = await c.waitFor("connection.close", 0);
    assert.equal(close.args.replyCode, ReplyCode.NotImplemented);
    c.destroy();
  } finally {
    await b.close();
  }
});

test("a consumer that does not read is paused: messages wait in the queue, not in socket buffers", {
  timeout: 30_000,
}, async () => {
  const b = await startTestBroker({
    config: (cfg) => {
      cfg.amqp.maxBufferedBytes = 65_536;
    },
  });
  try {
    const { conn, ch } = await open(b.amqpUrl);
    const { queue } = await ch.assertQueue("slow-q");
    const raw = await RawAmqp.ready(b.amqpPort);
    raw.method(1, "basic.consume", { queue, consumerTag: "slow", noAck: true });
    await raw.waitFor("basic.consume-ok", 1);
    raw.socket.pause(); // stop reading: the kernel buffers fill, then ours
    const body = Buffer.alloc(16 * 1024, 1);
    const total = 2000; // 32 MiB
    for (let i = 0; i < total; i++) ch.sendToQueue(queue, body);
    await until(async () => (await ch.checkQueue(queue)).messageCount > 0, 10_000);
    await sleep(200);
    const waiting = (await ch.checkQueue(queue)).messageCount;
    assert.ok(waiting > total / 2, `${waiting} of ${total} still queued`);
    raw.destroy();
    await ch.deleteQueue(queue);
    await conn.close();
  } finally {
    await b.close();
  }
});

const skip = hasOpenssl() || process.env.CI === "true" ? false : "openssl command not found";

test("AMQPS: the same protocol over TLS on amqp.tlsPort", { timeout: 30_000, skip }, async () => {
  const creds = selfSignedCert();
  const dir = mkdtempSync(join(tmpdir(), "sb-amqps-"));
  writeFileSync(join(dir, "c.pem"), creds.cert);
  writeFileSync(join(dir, "k.pem"), creds.key);
  const b = await startTestBroker({
    config: (cfg) => {
      cfg.tls.cert = join(dir, "c.pem");
      cfg.tls.key = join(dir, "k.pem");
      cfg.amqp.tlsPort = 0;
      cfg.mqtt.tlsPort = "off";
    },
  });
  try {
    const port = b.handle.ports.amqps;
    assert.ok(port);
    const conn = await amqp.connect(`amqps://guest:guest@localhost:${port}`, { ca: [creds.cert] });
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("secure"));
    await until(async () => (await ch.checkQueue(queue)).messageCount === 1);
    const m = await ch.get(queue, { noAck: true });
    assert.ok(m);
    assert.equal(m.content.toString(), "secure");
    await conn.close();
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
