/** Interop with Eclipse Paho for Python (Debian package python3-paho-mqtt), MQTT 3.1.1 and 5.0. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestBroker } from "../helpers/broker.js";
import { requireProgram, run } from "../helpers/external.js";

// The compiled test lives in dist/test/interop; the script stays in the source tree.
const script = fileURLToPath(new URL("../../../test/interop/fixtures/paho_client.py", import.meta.url));
const python = "/usr/bin/python3";

for (const version of ["311", "5"]) {
  test(`Paho ${version}: subscribe and publish QoS 0/1/2`, { timeout: 20_000 }, async (t) => {
    if (!requireProgram(t, python, ["-c", "import paho.mqtt.client"])) return;
    const b = await startTestBroker();
    try {
      const r = await run(python, [script, String(b.mqttPort), version], { timeoutMs: 15_000 });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.toString()) as { received: Array<[string, string, number]> };
      assert.deepEqual(out.received, [
        ["paho/q0", "0000ff", 0],
        ["paho/q1", "0100ff", 1],
        ["paho/q2", "0200ff", 2],
      ]);
    } finally {
      await b.close();
    }
  });
}
