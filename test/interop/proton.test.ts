/** Interop with Qpid Proton (Debian package python3-qpid-proton): a second, independent AMQP 1.0 client. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestBroker } from "../helpers/broker.js";
import { run } from "../helpers/external.js";

// The compiled test lives in dist/test/interop; the script stays in the source tree.
const script = fileURLToPath(new URL("../../../test/interop/fixtures/proton_client.py", import.meta.url));
// Debian's Python, where python3-qpid-proton is installed (pyenv's python3 may come first on PATH).
const python = "/usr/bin/python3";

test("Qpid Proton: send to a queue, receive and accept, and a wildcard topic receiver", {
  timeout: 40_000,
}, async (t) => {
  const probe = spawnSync(python, ["-c", "import proton"], { stdio: "ignore", timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    if (process.env.CI === "true") throw new Error("python3-qpid-proton is required in CI (see .ci/run)");
    t.skip("python3-qpid-proton not installed");
    return;
  }
  const b = await startTestBroker();
  try {
    const r = await run(python, [script, String(b.amqpPort)], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr.toString());
    const out = JSON.parse(r.stdout.toString()) as { queue: unknown[]; topic: unknown };
    assert.deepEqual(out.queue, [
      ["m0", 0, "c0", true],
      ["m1", 1, "c1", true],
      ["m2", 2, "c2", true],
    ]);
    assert.deepEqual(out.topic, ["on a topic", "proton.x"]);
    assert.equal(b.handle.router.queues.find("proton")!.messageCount, 0);
  } finally {
    await b.close();
  }
});
