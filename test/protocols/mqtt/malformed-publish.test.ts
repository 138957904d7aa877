/** Malformed PUBLISH topics and topic aliases over raw TCP against a real broker. */
import { test } from "node:test";
import { type Expected, runMalformedCase } from "../../helpers/raw-mqtt.js";
import { pkt, str } from "./codec/bytes.js";

const MALFORMED = 0x81;
const TOPIC_NAME_INVALID = 0x90;
const TOPIC_ALIAS_INVALID = 0x94;

const disconnect = (v: 4 | 5, rc: number): Expected => (v === 5 ? { disconnect: rc } : { close: true });

/** A QoS 0 PUBLISH with the topic given as raw bytes, and v5 properties given as raw bytes. */
function publish(v: 4 | 5, topic: string | Buffer, props: number[] = []): Buffer {
  return pkt(0x30, ...str(topic), ...(v === 5 ? [props.length, ...props] : []), 0x68, 0x69);
}

for (const v of [4, 5] as const) {
  const opts = { timeout: 10_000 };

  test(`MQTT ${v}: [MQTT-1.5.4-1] invalid UTF-8 in a PUBLISH topic → malformed`, opts, () =>
    runMalformedCase({
      name: "invalid utf-8",
      version: v,
      // 0xC0 0x80 is an overlong encoding of U+0000: not well-formed UTF-8.
      bytes: [publish(v, Buffer.from([0x61, 0x2f, 0xc0, 0x80]))],
      expected: disconnect(v, MALFORMED),
    }),
  );

  test(`MQTT ${v}: [MQTT-1.5.4-2] U+0000 in a PUBLISH topic → malformed`, opts, () =>
    runMalformedCase({
      name: "nul",
      version: v,
      bytes: [publish(v, "a/\u0000/b")],
      expected: disconnect(v, MALFORMED),
    }),
  );

  for (const topic of ["a/+/c", "a/#"]) {
    test(
      `MQTT ${v}: [MQTT-3.3.2-2] wildcard in a PUBLISH topic (${topic}) → ${v === 5 ? "DISCONNECT 0x90" : "closed"}`,
      opts,
      () =>
        runMalformedCase({
          name: "wildcard",
          version: v,
          bytes: [publish(v, topic)],
          expected: disconnect(v, TOPIC_NAME_INVALID),
        }),
    );
  }
}

test("MQTT 5: [MQTT-3.3.2-8] topic alias 0 → DISCONNECT 0x94", { timeout: 10_000 }, () =>
  runMalformedCase({
    name: "alias 0",
    version: 5,
    bytes: [publish(5, "a/b", [0x23, 0, 0])],
    expected: { disconnect: TOPIC_ALIAS_INVALID },
  }),
);

test(
  "MQTT 5: [MQTT-3.3.2-9] topic alias over the Topic Alias Maximum → DISCONNECT 0x94",
  { timeout: 10_000 },
  () =>
    runMalformedCase({
      name: "alias over max",
      version: 5,
      broker: { mqtt: { maxTopicAlias: 10 } },
      bytes: [publish(5, "a/b", [0x23, 0, 11])],
      expected: { disconnect: TOPIC_ALIAS_INVALID },
    }),
);
