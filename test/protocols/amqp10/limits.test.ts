/** Backpressure and shutdown: no credit under the memory alarm; broker shutdown closes with amqp:connection:forced. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQP_HEADER, P } from "../../../src/protocols/amqp10/codec/frames.js";
import { bool, described, list, NULL, str, uint } from "../../../src/protocols/amqp10/codec/types.js";
import { startTestBroker } from "../../helpers/broker.js";
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
