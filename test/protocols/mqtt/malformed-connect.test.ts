/**
 * Bad CONNECT packets over raw TCP against a real broker: refused with CONNACK where the
 * specification says so, otherwise closed without one.
 */
import { test } from "node:test";
import type { Auth, AuthResult, Credentials } from "../../../src/core/auth.js";
import { runMalformedCase } from "../../helpers/raw-mqtt.js";
import { connectBody, pkt, str } from "./codec/bytes.js";

const opts = { timeout: 10_000 };

/** Knows one user, "alice" with password "secret"; anonymous clients (the good ones) are let in. */
class OneUserAuth implements Auth {
  async authenticate(c: Credentials): Promise<AuthResult> {
    const alice = c.username === "alice" && c.password?.toString() === "secret";
    if (alice || c.username === undefined) {
      return {
        ok: true,
        principal: { username: c.username, clientId: c.clientId, protocol: c.protocol, anonymous: !alice },
      };
    }
    return { ok: false, reason: "bad-credentials" };
  }
  authorize(): boolean {
    return true;
  }
}

for (const v of [4, 5] as const) {
  test(`MQTT ${v}: [MQTT-3.1.2-1] CONNECT with a bad protocol name → closed`, opts, () =>
    runMalformedCase({
      name: "protocol name",
      version: v,
      connected: false,
      bytes: [pkt(0x10, ...str("MQTX"), v, 2, 0, 60, ...(v === 5 ? [0] : []), ...str("bad-client"))],
      expected: { close: true },
    }),
  );

  // v5 §3.1.4: the Server MAY send CONNACK with a reason code >= 0x80 before closing; we do.
  test(
    `MQTT ${v}: [MQTT-3.1.2-3] CONNECT reserved flag set → ${v === 5 ? "CONNACK 0x81, " : ""}closed`,
    opts,
    () =>
      runMalformedCase({
        name: "reserved flag",
        version: v,
        connected: false,
        bytes: [pkt(0x10, ...connectBody(v, 0x03, ...str("bad-client")))],
        expected: v === 5 ? { connack: 0x81 } : { close: true },
      }),
  );
}

test("MQTT 4: [MQTT-3.1.2-2] unsupported protocol level 6 → CONNACK 0x01 (3.1.1 format), closed", opts, () =>
  runMalformedCase({
    name: "level 6",
    version: 4,
    connected: false,
    bytes: [pkt(0x10, ...str("MQTT"), 6, 2, 0, 60, 0, ...str("bad-client"))],
    expected: { connack: 0x01 },
  }),
);

test("MQTT 4: [MQTT-3.1.2-22] password flag without user name flag → closed", opts, () =>
  runMalformedCase({
    name: "password without user",
    version: 4,
    connected: false,
    bytes: [pkt(0x10, ...connectBody(4, 0x42, ...str("bad-client"), ...str("pw")))],
    expected: { close: true },
  }),
);

test("MQTT 5: §3.1.2.11.3 Receive Maximum 0 → CONNACK 0x82, closed", opts, () =>
  runMalformedCase({
    name: "receive maximum 0",
    version: 5,
    connected: false,
    bytes: [pkt(0x10, ...str("MQTT"), 5, 2, 0, 60, 3, 0x21, 0, 0, ...str("bad-client"))],
    expected: { connack: 0x82 },
  }),
);

test("MQTT 4: [MQTT-3.1.3-8] empty client id with clean session 0 → CONNACK 0x02, closed", opts, () =>
  runMalformedCase({
    name: "empty client id",
    version: 4,
    connected: false,
    bytes: [pkt(0x10, ...connectBody(4, 0x00, ...str("")))],
    expected: { connack: 0x02 },
  }),
);

for (const v of [4, 5] as const) {
  const rc = v === 5 ? 0x86 : 0x04;
  test(
    `MQTT ${v}: §3.2.2.2 wrong user name or password → CONNACK 0x${rc.toString(16).padStart(2, "0")}, closed`,
    opts,
    () =>
      runMalformedCase({
        name: "bad credentials",
        version: v,
        connected: false,
        broker: { auth: new OneUserAuth() },
        bytes: [pkt(0x10, ...connectBody(v, 0xc2, ...str("bad-client"), ...str("alice"), ...str("wrong")))],
        expected: { connack: rc },
      }),
  );
}
