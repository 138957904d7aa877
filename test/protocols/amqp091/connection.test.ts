/**
 * Connection negotiation and lifetime (amqp0-9-1 §2.2.4, class connection): SASL PLAIN and AMQPLAIN
 * through the core Auth, tune (channel-max, frame-max, heartbeat), virtual hosts, close both ways,
 * blocked/unblocked, presence.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqp from "amqplib";
import type { Auth, AuthResult, Credentials } from "../../../src/core/auth.js";
import { nullLogger } from "../../../src/core/logger.js";
import { Router } from "../../../src/core/router.js";
import { sniffAmqp } from "../../../src/protocols/amqp-common/sniff.js";
import { Amqp091Adapter } from "../../../src/protocols/amqp091/adapter.js";
import {
  encodeMethod,
  PROTOCOL_HEADER,
  ReplyCode,
  Writer,
} from "../../../src/protocols/amqp091/codec/index.js";
import type { Amqp091Options } from "../../../src/protocols/amqp091/options.js";
import { MemoryStore } from "../../../src/store/memory-store.js";
import { listenTcp } from "../../../src/transports/tcp.js";
import { startTestBroker } from "../../helpers/broker.js";
import { sleep, until } from "./amqp-client.js";
import { RawAmqp } from "./raw-client.js";

/** Accepts alice/secret only; records what it was asked. */
class OneUserAuth implements Auth {
  readonly seen: Credentials[] = [];
  async authenticate(c: Credentials): Promise<AuthResult> {
    this.seen.push(c);
    if (c.username === "alice" && c.password?.toString() === "secret") {
      return {
        ok: true,
        principal: { username: "alice", clientId: c.clientId, protocol: c.protocol, anonymous: false },
      };
    }
    return { ok: false, reason: "bad-credentials" };
  }
  authorize(): boolean {
    return true;
  }
}

/** A router, the AMQP adapter and a listener, with the adapter at hand. */
async function stack(
  options: Partial<Amqp091Options> = {},
  auth: Auth = new OneUserAuth(),
  store = new MemoryStore(),
) {
  const router = new Router({
    store,
    auth,
    log: nullLogger,
    limits: { maxQueuedMessages: 1000, maxQueuedBytes: 0 },
  });
  await router.start();
  const adapter = new Amqp091Adapter(router, options, nullLogger);
  const accept = sniffAmqp({ protocols: [adapter.protocol], preferred: PROTOCOL_HEADER, timeoutMs: 5000 });
  const listener = await listenTcp({ host: "127.0.0.1", port: 0 }, accept);
  return {
    router,
    adapter,
    port: listener.port,
    async close() {
      await router.close();
      await adapter.drained(500);
      adapter.close();
      await listener.close();
    },
  };
}

test("SASL PLAIN through the core Auth: right password opens, wrong one is 403 then close", {
  timeout: 10_000,
}, async () => {
  const auth = new OneUserAuth();
  const s = await stack({}, auth);
  try {
    const ok = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}`);
    await ok.close();
    await assert.rejects(amqp.connect(`amqp://alice:wrong@127.0.0.1:${s.port}`), /ACCESS_REFUSED|403/);
    assert.equal(auth.seen[0]!.protocol, "amqp091");
    assert.equal(auth.seen[1]!.password?.toString(), "wrong");
  } finally {
    await s.close();
  }
});

test("SASL AMQPLAIN: LOGIN and PASSWORD in a field table", { timeout: 10_000 }, async () => {
  const s = await stack();
  try {
    const c = await RawAmqp.open(s.port);
    c.startDecoding();
    c.send(PROTOCOL_HEADER);
    const start = await c.waitFor("connection.start");
    assert.match(start.args.mechanisms ?? "", /AMQPLAIN/);
    assert.equal(start.args.versionMajor, 0);
    assert.equal(start.args.versionMinor, 9);
    const w = new Writer();
    w.shortstr("LOGIN");
    w.fieldValue("alice");
    w.shortstr("PASSWORD");
    w.fieldValue("secret");
    c.method(0, "connection.start-ok", {
      clientProperties: {},
      mechanism: "AMQPLAIN",
      response: Buffer.from(w.result()),
      locale: "en_US",
    });
    const tune = await c.waitFor("connection.tune");
    assert.equal(tune.args.frameMax, 131_072);
    c.destroy();
  } finally {
    await s.close();
  }
});

test("an unsupported SASL mechanism is refused (403)", { timeout: 10_000 }, async () => {
  const s = await stack();
  try {
    const c = await RawAmqp.open(s.port);
    c.startDecoding();
    c.send(PROTOCOL_HEADER);
    await c.waitFor("connection.start");
    c.method(0, "connection.start-ok", {
      clientProperties: {},
      mechanism: "EXTERNAL",
      response: Buffer.alloc(0),
      locale: "en_US",
    });
    const close = await c.waitFor("connection.close");
    assert.equal(close.args.replyCode, ReplyCode.AccessRefused);
    await c.waitClosed();
  } finally {
    await s.close();
  }
});

test("tune: the client's lower limits rule; a frame-max above ours is 530", { timeout: 10_000 }, async () => {
  const s = await stack({ channelMax: 10 });
  try {
    const c = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}?frameMax=8192&channelMax=5`);
    const conn = (c as unknown as { connection: { frameMax: number; channelMax: number } }).connection;
    assert.equal(conn.frameMax, 8192);
    assert.equal(conn.channelMax, 5);
    await c.close();
    const raw = await RawAmqp.open(s.port);
    raw.startDecoding();
    raw.send(PROTOCOL_HEADER);
    await raw.waitFor("connection.start");
    raw.method(0, "connection.start-ok", {
      clientProperties: {},
      mechanism: "PLAIN",
      response: Buffer.from("\0alice\0secret"),
      locale: "",
    });
    await raw.waitFor("connection.tune");
    raw.method(0, "connection.tune-ok", { channelMax: 5, frameMax: 10_000_000, heartbeat: 0 });
    const close = await raw.waitFor("connection.close");
    assert.equal(close.args.replyCode, ReplyCode.NotAllowed);
  } finally {
    await s.close();
  }
});

test("a channel number above the negotiated channel-max: 504", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const c = await RawAmqp.ready(b.amqpPort, { channelMax: 3 });
    c.method(4, "channel.open");
    const close = await c.waitFor("connection.close", 0);
    assert.equal(close.args.replyCode, ReplyCode.ChannelError);
  } finally {
    await b.close();
  }
});

test("heartbeats: sent to an idle client; a silent client is disconnected after two intervals", {
  timeout: 15_000,
}, async () => {
  const s = await stack({ heartbeat: 1 });
  try {
    const c = await RawAmqp.open(s.port);
    c.startDecoding();
    c.send(PROTOCOL_HEADER);
    await c.waitFor("connection.start");
    c.method(0, "connection.start-ok", {
      clientProperties: {},
      mechanism: "PLAIN",
      response: Buffer.from("\0alice\0secret"),
      locale: "",
    });
    const tune = await c.waitFor("connection.tune");
    assert.equal(tune.args.heartbeat, 1);
    c.method(0, "connection.tune-ok", { channelMax: 0, frameMax: 0, heartbeat: 1 });
    c.method(0, "connection.open", { virtualHost: "/" });
    await c.waitFor("connection.open-ok");
    const opened = Date.now();
    await until(() => c.frames.some((f) => f.type === 8), 5000);
    // We stay silent: the broker gives up after two heartbeat intervals (§4.2.7).
    await c.waitClosed(8000);
    assert.ok(Date.now() - opened >= 1500);
  } finally {
    await s.close();
  }
});

test("heartbeats: a client that beats stays connected", { timeout: 15_000 }, async () => {
  const s = await stack({ heartbeat: 1 });
  try {
    const c = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}?heartbeat=1`);
    await sleep(3000);
    const ch = await c.createChannel();
    await ch.assertQueue("", { exclusive: true });
    await c.close();
  } finally {
    await s.close();
  }
});

test("virtual hosts: configured ones open; others are 530 NOT_ALLOWED", { timeout: 10_000 }, async () => {
  const s = await stack({ vhosts: ["/", "plant"] });
  try {
    const c = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}/plant`);
    await c.close();
    await assert.rejects(amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}/nowhere`), /ConnectionClose/);
  } finally {
    await s.close();
  }
});

test("client close: close-ok; broker shutdown: connection.close 320 CONNECTION_FORCED", {
  timeout: 10_000,
}, async () => {
  const s = await stack();
  const c = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}`);
  // 320 is not fatal for amqplib: it reports it with 'close', not 'error'.
  const closed = new Promise<Error & { code?: number }>((resolve) => c.once("close", resolve));
  assert.equal(s.router.presence.list().filter((r) => r.protocol === "amqp091").length, 1);
  await s.close();
  assert.equal((await closed).code, ReplyCode.ConnectionForced);
});

test("connection.close from the client gets close-ok and the socket ends", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const c = await RawAmqp.ready(b.amqpPort);
    c.method(0, "connection.close", { replyCode: 200, replyText: "bye" });
    await c.waitFor("connection.close-ok", 0);
    await c.waitClosed();
    await until(() => b.handle.router.presence.list().every((r) => r.protocol !== "amqp091"));
  } finally {
    await b.close();
  }
});

test("memory alarm: connection.blocked to publishers, connection.unblocked when it clears", {
  timeout: 10_000,
}, async () => {
  const s = await stack({ memoryHighWatermark: Number.MAX_SAFE_INTEGER - 1 });
  try {
    const c = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s.port}`);
    const events: string[] = [];
    c.on("blocked", (reason: string) => events.push(`blocked:${reason}`));
    c.on("unblocked", () => events.push("unblocked"));
    const ch = await c.createChannel();
    ch.sendToQueue("nowhere", Buffer.from("x"));
    await sleep(50);
    s.adapter.checkMemory(Number.MAX_SAFE_INTEGER); // as if the heap were above the watermark
    await until(() => events.length >= 1);
    assert.equal(events[0], "blocked:memory high watermark");
    // The periodic check sees the real heap, below the watermark: unblocked.
    await until(() => events.includes("unblocked"));
    await c.close();
  } finally {
    await s.close();
  }
});

test("no protocol header within the handshake timeout: the socket is closed", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({
    config: (cfg) => {
      cfg.amqp.handshakeTimeoutMs = 200;
    },
  });
  try {
    const c = await RawAmqp.open(b.amqpPort);
    await c.waitClosed(5000);
    const late = await RawAmqp.open(b.amqpPort);
    late.startDecoding();
    late.send(PROTOCOL_HEADER);
    await late.waitFor("connection.start");
    // ...and stops there: no start-ok, so the handshake timer ends it too.
    await late.waitClosed(5000);
  } finally {
    await b.close();
  }
});

test("connection.update-secret is accepted", { timeout: 10_000 }, async () => {
  const b = await startTestBroker();
  try {
    const c = await RawAmqp.ready(b.amqpPort);
    c.send(encodeMethod(0, "connection.update-secret", { newSecret: "tok", reason: "refresh" }));
    await c.waitFor("connection.update-secret-ok", 0);
    c.destroy();
  } finally {
    await b.close();
  }
});

test("virtual hosts are namespaces: same queue names apart; only '/' has the shared topic space", {
  timeout: 15_000,
}, async () => {
  const b = await startTestBroker({
    config: (cfg) => {
      cfg.amqp.vhosts = "/, plant";
    },
  });
  try {
    const root = await amqp.connect(b.amqpUrl);
    const plant = await amqp.connect(`${b.amqpUrl}/plant`);
    const rc = await root.createChannel();
    const pc = await plant.createChannel();
    await rc.assertQueue("orders", { durable: false });
    await pc.assertQueue("orders", { durable: false, arguments: { "x-max-length": 5 } }); // other settings: no 406
    rc.sendToQueue("orders", Buffer.from("root"));
    pc.sendToQueue("orders", Buffer.from("plant"));
    await until(async () => (await rc.checkQueue("orders")).messageCount === 1);
    await until(async () => (await pc.checkQueue("orders")).messageCount === 1);
    const fromPlant = await pc.get("orders", { noAck: true });
    assert.ok(fromPlant);
    assert.equal(fromPlant.content.toString(), "plant");
    // amq.topic in 'plant' is its own topic exchange, not the shared space.
    await pc.bindQueue("orders", "amq.topic", "sensors.#");
    rc.publish("amq.topic", "sensors.x", Buffer.from("root-topic"));
    pc.publish("amq.topic", "sensors.y", Buffer.from("plant-topic"));
    await until(async () => (await pc.checkQueue("orders")).messageCount === 1);
    const t = await pc.get("orders", { noAck: true });
    assert.ok(t);
    assert.equal(t.content.toString(), "plant-topic");
    // A queue of '/' does not exist in 'plant'.
    await rc.assertQueue("only-root");
    const pc2 = await plant.createChannel();
    pc2.on("error", () => {});
    await assert.rejects(pc2.checkQueue("only-root"), /404.*vhost 'plant'/);
    await root.close();
    await plant.close();
  } finally {
    await b.close();
  }
});

test("durable exchanges, bindings and queue arguments of every vhost come back after a restart", {
  timeout: 15_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-topology-"));
  const store = new MemoryStore();
  const options = { vhosts: ["/", "plant"], topologyFile: join(dir, "topology.json") };
  try {
    const s1 = await stack(options, new OneUserAuth(), store);
    const c1 = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s1.port}/plant`);
    const ch1 = await c1.createChannel();
    await ch1.assertExchange("line", "direct", { durable: true });
    await ch1.assertQueue("speeds", { durable: true, arguments: { "x-dead-letter-exchange": "line" } });
    await ch1.bindQueue("speeds", "line", "speed");
    await c1.close();
    await s1.close();

    const s2 = await stack(options, new OneUserAuth(), store);
    try {
      const c2 = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s2.port}/plant`);
      const ch2 = await c2.createChannel();
      ch2.on("error", () => {});
      ch2.publish("line", "speed", Buffer.from("42"));
      await until(async () => (await ch2.checkQueue("speeds")).messageCount === 1);
      // The same arguments are equivalent; others are not (they were restored).
      await ch2.assertQueue("speeds", { durable: true, arguments: { "x-dead-letter-exchange": "line" } });
      await assert.rejects(ch2.assertQueue("speeds", { durable: true }), /406/);
      await c2.close();
      // Nothing of 'plant' leaked into '/'.
      const r = await amqp.connect(`amqp://alice:secret@127.0.0.1:${s2.port}`);
      const rch = await r.createChannel();
      rch.on("error", () => {});
      await assert.rejects(rch.checkExchange("line"), /404/);
      await r.close();
    } finally {
      await s2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
