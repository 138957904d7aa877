/** Interop with pika (Debian package python3-pika): a second, independent AMQP 0-9-1 client. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestBroker } from "../helpers/broker.js";
import { requireProgram, run } from "../helpers/external.js";

// The compiled test lives in dist/test/interop; the script stays in the source tree.
const script = fileURLToPath(new URL("../../../test/interop/fixtures/pika_client.py", import.meta.url));
// Debian's Python, where python3-pika is installed (pyenv's python3 may come first on PATH).
const python = "/usr/bin/python3";

test("pika: confirmed publish through a topic exchange, consume with acks, get-empty", {
  timeout: 30_000,
}, async (t) => {
  if (!requireProgram(t, python, ["-c", "import pika"])) return;
  const b = await startTestBroker();
  try {
    const r = await run(python, [script, String(b.amqpPort)], { timeoutMs: 25_000 });
    assert.equal(r.code, 0, r.stderr.toString());
    const out = JSON.parse(r.stdout.toString()) as { received: unknown[]; emptyAfter: boolean };
    assert.deepEqual(out.received, [
      ["pika.0", "m0", "text/plain", 0, "c0"],
      ["pika.1", "m1", "text/plain", 1, "c1"],
      ["pika.2", "m2", "text/plain", 2, "c2"],
    ]);
    assert.equal(out.emptyAfter, true);
  } finally {
    await b.close();
  }
});
