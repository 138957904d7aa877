/**
 * One client-id space for every protocol (docs/metadata.md "Client ids"): a second connection with
 * the same client id, whatever its protocol, takes over; the first is closed with its own
 * protocol's reason (MQTT 5 DISCONNECT 0x8E, STOMP ERROR).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { IDisconnectPacket } from "mqtt";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { connect, endClient } from "../helpers/mqtt-client.js";
import { stompjs, withTimeout } from "../helpers/stomp-clients.js";
import { until } from "../helpers/wamp.js";

const T = { timeout: 20_000 };

describe("client ids are unique across protocols", () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker();
  });
  after(async () => {
    await b.close();
  });

  test("a STOMP client-id takes over an MQTT 5 client: DISCONNECT 0x8E (Session taken over)", T, async () => {
    const m = await connect(b.mqttUrl, { protocolVersion: 5, clientId: "dev-1" });
    const disconnected = new Promise<number | undefined>((resolve) =>
      m.once("disconnect", (p: IDisconnectPacket) => resolve(p.reasonCode)),
    );
    const s = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dev-1" } });
    assert.equal(await withTimeout(disconnected, 5000, "DISCONNECT"), 0x8e);
    await until(
      () => b.handle.router.presence.get("dev-1")?.protocol === "stomp",
      "dev-1 is the STOMP client",
    );
    await s.deactivate();
    await endClient(m, true);
  });

  test("an MQTT 3.1.1 client takes over a STOMP client-id: the STOMP client gets an ERROR", T, async () => {
    const s = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dev-2" } });
    const error = new Promise<string>((resolve) => {
      s.onStompError = (f) => resolve(f.headers.message ?? "");
    });
    const m = await connect(b.mqttUrl, { protocolVersion: 4, clientId: "dev-2" });
    assert.equal(await withTimeout(error, 5000, "ERROR"), "connection closed (taken-over)");
    await until(() => b.handle.router.presence.get("dev-2")?.protocol === "mqtt", "dev-2 is the MQTT client");
    await endClient(m, true);
    await s.deactivate();
  });

  test(
    "STOMP takes over STOMP with the same client-id; without one, each connection has its own id",
    T,
    async () => {
      const first = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dev-3" } });
      const error = new Promise<string>((resolve) => {
        first.onStompError = (f) => resolve(f.headers.message ?? "");
      });
      const second = await stompjs({ tcp: b.stompPort }, { connectHeaders: { "client-id": "dev-3" } });
      assert.equal(await withTimeout(error, 5000, "ERROR"), "connection closed (taken-over)");
      const a = await stompjs({ tcp: b.stompPort });
      const c = await stompjs({ tcp: b.stompPort });
      const stomp = b.handle.router.presence.list().filter((r) => r.protocol === "stomp");
      assert.equal(stomp.length, 3, "dev-3 and two anonymous-id connections");
      await Promise.all([first.deactivate(), second.deactivate(), a.deactivate(), c.deactivate()]);
    },
  );
});
