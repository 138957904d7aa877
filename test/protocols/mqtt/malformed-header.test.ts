/**
 * Malformed fixed headers and packets in the wrong place, over raw TCP against a real broker
 * (as Mosquitto's 13-malformed-* tests): v3.1.1 is closed, v5 gets DISCONNECT with the reason code.
 */
import { test } from "node:test";
import { type Expected, runMalformedCase } from "../../helpers/raw-mqtt.js";
import { pkt, str } from "./codec/bytes.js";

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const PACKET_TOO_LARGE = 0x95;

/** v5: DISCONNECT with `rc` then close; v3.1.1 has no DISCONNECT from the server: just closed. */
const disconnect = (v: 4 | 5, rc: number): Expected => (v === 5 ? { disconnect: rc } : { close: true });
/** Property Length 0, present only in v5. */
const noProps = (v: 4 | 5): number[] => (v === 5 ? [0] : []);

for (const v of [4, 5] as const) {
  const opts = { timeout: 10_000 };

  test(
    `MQTT ${v}: [MQTT-1.5.5-1] remaining length of 5 bytes → ${v === 5 ? "DISCONNECT 0x81" : "closed"}`,
    opts,
    () =>
      runMalformedCase({
        name: "remaining length",
        version: v,
        bytes: [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
        expected: disconnect(v, MALFORMED),
      }),
  );

  test(`MQTT ${v}: [MQTT-2.1.3-1] PINGREQ with reserved flags set → malformed`, opts, () =>
    runMalformedCase({
      name: "pingreq flags",
      version: v,
      bytes: [Buffer.from([0xc1, 0x00])],
      expected: disconnect(v, MALFORMED),
    }),
  );

  test(`MQTT ${v}: [MQTT-3.8.1-1] SUBSCRIBE with fixed-header flags 0 → malformed`, opts, () =>
    runMalformedCase({
      name: "subscribe flags",
      version: v,
      bytes: [pkt(0x80, 0, 1, ...noProps(v), ...str("a/b"), 0)],
      expected: disconnect(v, MALFORMED),
    }),
  );

  test(`MQTT ${v}: [MQTT-3.3.1-4] PUBLISH with QoS 3 → malformed`, opts, () =>
    runMalformedCase({
      name: "qos 3",
      version: v,
      bytes: [pkt(0x36, ...str("a/b"), 0, 1, ...noProps(v), 0x68, 0x69)],
      expected: disconnect(v, MALFORMED),
    }),
  );

  test(`MQTT ${v}: [MQTT-3.1.0-2] a second CONNECT → protocol error`, opts, () =>
    runMalformedCase({
      name: "second connect",
      version: v,
      bytes: [pkt(0x10, ...str("MQTT"), v, 2, 0, 0, ...noProps(v), ...str("bad-client"))],
      expected: disconnect(v, PROTOCOL_ERROR),
    }),
  );

  test(`MQTT ${v}: [MQTT-3.1.0-1] PUBLISH before CONNECT → closed without CONNACK`, opts, () =>
    runMalformedCase({
      name: "publish first",
      version: v,
      connected: false,
      bytes: [pkt(0x30, ...str("a/b"), ...noProps(v), 0x68, 0x69)],
      expected: { close: true },
    }),
  );

  test(
    `MQTT ${v}: [MQTT-3.2.2-?] packet over mqtt.maxPacketSize → ${v === 5 ? "DISCONNECT 0x95" : "closed"}`,
    opts,
    () =>
      runMalformedCase({
        name: "too large",
        version: v,
        broker: { mqtt: { maxPacketSize: 1024 } },
        bytes: [pkt(0x30, ...str("a/b"), ...noProps(v), ...new Array<number>(2000).fill(0x61))],
        expected: disconnect(v, PACKET_TOO_LARGE),
      }),
  );

  test(`MQTT ${v}: §4.13 a client sending CONNACK (server-only) → protocol error`, opts, () =>
    runMalformedCase({
      name: "client connack",
      version: v,
      bytes: [pkt(0x20, 0, 0, ...noProps(v))],
      expected: disconnect(v, PROTOCOL_ERROR),
    }),
  );

  test(`MQTT ${v}: §4.13 a client sending SUBACK (server-only) → protocol error`, opts, () =>
    runMalformedCase({
      name: "client suback",
      version: v,
      bytes: [pkt(0x90, 0, 1, ...noProps(v), 0)],
      expected: disconnect(v, PROTOCOL_ERROR),
    }),
  );
}
