import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../src/core/logger.js";

test("logger writes one line per event with level and key=value fields, above the threshold only", () => {
  const lines: string[] = [];
  const log = createLogger("info", { write: (l: string) => lines.push(l) });
  log.debug("hidden");
  log.info("client connected", {
    clientId: "dev 1",
    port: 1883,
    ok: true,
    err: new Error("boom"),
    skip: undefined,
  });
  log.error("bad");
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^\d{4}-\d\d-\d\dT\S+Z INFO {2}client connected clientId="dev 1" port=1883 ok=true err=boom\n$/,
  );
  assert.match(lines[1], / ERROR bad\n$/);
  const quiet = createLogger("error", { write: (l: string) => lines.push(l) });
  quiet.warn("x");
  quiet.info("x");
  assert.equal(lines.length, 2);
});
