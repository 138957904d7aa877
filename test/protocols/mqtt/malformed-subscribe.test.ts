/** Malformed SUBSCRIBE payloads over raw TCP against a real broker. */
import { test } from "node:test";
import { runMalformedCase } from "../../helpers/raw-mqtt.js";
import { pkt, str } from "./codec/bytes.js";

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const opts = { timeout: 10_000 };

test("MQTT 4: [MQTT-3.8.3-3] SUBSCRIBE without topic filters → closed", opts, () =>
  runMalformedCase({ name: "empty", version: 4, bytes: [pkt(0x82, 0, 1)], expected: { close: true } }),
);

test("MQTT 5: [MQTT-3.8.3-3] SUBSCRIBE without topic filters → DISCONNECT 0x82", opts, () =>
  runMalformedCase({
    name: "empty",
    version: 5,
    bytes: [pkt(0x82, 0, 1, 0)],
    expected: { disconnect: PROTOCOL_ERROR },
  }),
);

test("MQTT 4: [MQTT-3.8.3-4] SUBSCRIBE options with reserved bits set → closed", opts, () =>
  runMalformedCase({
    name: "reserved bits",
    version: 4,
    bytes: [pkt(0x82, 0, 1, ...str("a/b"), 0x04)],
    expected: { close: true },
  }),
);

test("MQTT 4: [MQTT-3.8.3-4] SUBSCRIBE requesting QoS 3 → closed", opts, () =>
  runMalformedCase({
    name: "qos 3",
    version: 4,
    bytes: [pkt(0x82, 0, 1, ...str("a/b"), 0x03)],
    expected: { close: true },
  }),
);

test("MQTT 5: [MQTT-3.8.3-5] SUBSCRIBE options with reserved bits 7-6 set → DISCONNECT 0x81", opts, () =>
  runMalformedCase({
    name: "reserved bits",
    version: 5,
    bytes: [pkt(0x82, 0, 1, 0, ...str("a/b"), 0x40)],
    expected: { disconnect: MALFORMED },
  }),
);

// §3.8.3.1 names Retain Handling 3 and Maximum QoS 3 a Protocol Error (not a Malformed Packet).
test("MQTT 5: §3.8.3.1 SUBSCRIBE retain handling 3 → DISCONNECT 0x82", opts, () =>
  runMalformedCase({
    name: "retain handling 3",
    version: 5,
    bytes: [pkt(0x82, 0, 1, 0, ...str("a/b"), 0x30)],
    expected: { disconnect: PROTOCOL_ERROR },
  }),
);

test("MQTT 5: §3.8.3.1 SUBSCRIBE maximum QoS 3 → DISCONNECT 0x82", opts, () =>
  runMalformedCase({
    name: "qos 3",
    version: 5,
    bytes: [pkt(0x82, 0, 1, 0, ...str("a/b"), 0x03)],
    expected: { disconnect: PROTOCOL_ERROR },
  }),
);
