/** Interop with slixmpp (Debian package python3-slixmpp): an independent XMPP client implementation. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { FileAuth } from "../../src/core/auth/file-auth.js";
import { scramEntries } from "../../src/core/auth/scram.js";
import { hashPassword, UsersFile } from "../../src/core/auth/users-file.js";
import { startTestBroker } from "../helpers/broker.js";
import { requireProgram, run } from "../helpers/external.js";

// The compiled test lives in dist/test/interop; the script stays in the source tree.
const script = fileURLToPath(new URL("../../../test/interop/fixtures/slixmpp_client.py", import.meta.url));
const python = "/usr/bin/python3";

test("slixmpp: SCRAM login, roster, presence subscription, chat message, PubSub event (and MQTT sees the item)", {
  timeout: 40_000,
}, async (t) => {
  if (!requireProgram(t, python, ["-c", "import slixmpp"])) return;
  const lines = [];
  for (const [user, pw] of [
    ["alice", "wonderland"],
    ["bob", "builder"],
  ] as const) {
    lines.push(`${user}:${await hashPassword(pw)} ${scramEntries(Buffer.from(pw))}`);
  }
  const file = UsersFile.parse(`${lines.join("\n")}\n`);
  const auth = new FileAuth({ users: file.users(), scram: file.scram(), allowAnonymous: false });
  const b = await startTestBroker({ auth });
  const m = await mqtt.connectAsync(b.mqttUrl, {
    clientId: "slixmpp-watch",
    username: "alice",
    password: "wonderland",
  });
  try {
    const seen: string[] = [];
    m.on("message", (_topic, payload) => seen.push(payload.toString()));
    await m.subscribeAsync("interop/slixmpp");
    const r = await run(python, [script, String(b.xmppPort)], { timeoutMs: 35_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.toString()) as {
      logged_in: string[];
      presence_seen: boolean;
      message: string;
      event: { node: string; id: string; text: string };
    };
    assert.deepEqual(out.logged_in.sort(), ["alice@localhost/sli", "bob@localhost/sli"]);
    assert.equal(out.presence_seen, true);
    assert.equal(out.message, "hello from slixmpp");
    assert.deepEqual(out.event, { node: "interop/slixmpp", id: "s1", text: "pubsub from slixmpp" });
    assert.deepEqual(seen, ["pubsub from slixmpp"]);
  } finally {
    await m.endAsync();
    await b.close();
  }
});
