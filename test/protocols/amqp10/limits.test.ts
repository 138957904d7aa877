/** Backpressure, shutdown and TLS: no credit under the memory alarm; shutdown is amqp:connection:forced; AMQPS. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import rhea from "rhea";
import { AMQP_HEADER, P } from "../../../src/protocols/amqp10/codec/frames.js";
import { bool, described, list, NULL, str, uint } from "../../../src/protocols/amqp10/codec/types.js";
import { startTestBroker } from "../../helpers/broker.js";
import { hasOpenssl, selfSignedCert } from "../../transports/helpers.js";
import { closeConn, receiver, send, sender } from "./client.js";
import { conditionOf, RawAmqp10 } from "./raw-client.js";

async function rawSender(port: number, address: string): Promise<RawAmqp10> {
  const c = await RawAmqp10.connect(port);
  c.write(AMQP_HEADER);
  c.frame(0, P.open, [str("raw")]);
  await c.next((f) => f.code === P.open);
  c.frame(0, P.begin, [NULL, uint(0), uint(100), uint(100)]);
  await c.next((f) => f.code === P.begin);
  c.frame(0, P.attach, [
    str("s"),
    uint(0),
    bool(false),
    NULL,
    NULL,
    described(P.source, list([])),
    described(P.target, list([str(address)])),
  ]);
  await c.next((f) => f.code === P.attach);
  return c;
}

test("memory alarm: senders get no link credit while the heap is above amqp.memoryHighWatermark", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ config: (c) => (c.amqp.memoryHighWatermark = 1) });
  try {
    await new Promise((r) => setTimeout(r, 400)); // the alarm is checked every 250 ms
    const c = await rawSender(b.amqpPort, "/queue/alarm");
    await assert.rejects(
      c.next((f) => f.code === P.flow && f.fields[4] !== undefined, 600),
      /no matching frame/,
    );
    c.end();
  } finally {
    await b.close();
  }
});

test("broker shutdown closes AMQP 1.0 connections with amqp:connection:forced", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  const c = await rawSender(b.amqpPort, "/queue/shutdown");
  const closing = b.close();
  const f = await c.next((fr) => fr.code === P.close);
  assert.equal(conditionOf(f.fields[0]), "amqp:connection:forced");
  c.frame(0, P.close, []);
  await closing;
  c.end();
});

const skip = hasOpenssl() || process.env.CI === "true" ? false : "openssl command not found";

test("AMQPS: AMQP 1.0 over TLS on amqp.tlsPort (the shared sniffer)", { timeout: 30_000, skip }, async () => {
  const creds = selfSignedCert();
  const dir = mkdtempSync(join(tmpdir(), "sb-amqp10s-"));
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
  const container = rhea.create_container({ id: "tls-test" });
  try {
    const conn = await new Promise<rhea.Connection>((resolve, reject) => {
      const c = container.connect({
        host: "localhost",
        port: b.handle.ports.amqps!,
        transport: "tls",
        ca: [creds.cert],
        username: "anonymous",
        reconnect: false,
      } as rhea.ConnectionOptions);
      c.once("connection_open", () => resolve(c));
      c.once("disconnected", (ctx) => reject(ctx.error ?? new Error("disconnected")));
    });
    const inbox = await receiver(conn, "/queue/secure");
    const s = await sender(conn, "/queue/secure");
    await send(s, { body: "secure" });
    const [m] = await inbox.take(1);
    assert.equal(m!.message.body, "secure");
    await closeConn(conn);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Everyone may do everything except touch topics under secret/ and the queue "private". */
const noSecrets = {
  async authenticate(c: { username?: string; clientId: string; protocol: string }) {
    return {
      ok: true as const,
      principal: { username: c.username, clientId: c.clientId, protocol: c.protocol, anonymous: false },
    };
  },
  authorize(_p: unknown, _action: string, topic: string): boolean {
    return !topic.startsWith("secret") && topic !== "#" && topic !== "$queue/private";
  },
};

test("ACL: attach to a denied topic or queue is amqp:unauthorized-access; the anonymous relay rejects per message", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker({ auth: noSecrets });
  const { connect, errorOf } = await import("./client.js");
  const conn = await connect(b.amqpPort);
  try {
    assert.equal((await errorOf(sender(conn, "/topic/secret.plans"))).condition, "amqp:unauthorized-access");
    assert.equal((await errorOf(receiver(conn, "/topic/secret.#"))).condition, "amqp:unauthorized-access");
    assert.equal((await errorOf(receiver(conn, "/queue/private"))).condition, "amqp:unauthorized-access");
    const relay = await sender(conn, { target: {} } as never);
    const r = await send(relay, { to: "/topic/secret.x", body: "no" });
    assert.equal(r.outcome, "rejected");
    const ok = await send(relay, { to: "/topic/public.x", body: "yes" });
    assert.equal(ok.outcome, "accepted");
  } finally {
    await closeConn(conn);
    await b.close();
  }
});
