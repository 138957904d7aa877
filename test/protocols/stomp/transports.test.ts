/** STOMP over TLS (stomp.tlsPort, "--stomps-port"), and the escaping of MESSAGE headers per version. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import {
  encodeFrame,
  header,
  StompDecoder,
  type StompFrame,
} from "../../../src/protocols/stomp/codec/index.js";
import { startTestBroker } from "../../helpers/broker.js";
import { RawStomp } from "../../helpers/raw-stomp.js";
import { hasOpenssl, selfSignedCert } from "../../transports/helpers.js";

test("STOMP over TLS: CONNECT, SUBSCRIBE and a MESSAGE through the stomps listener", {
  timeout: 30_000,
  skip: !hasOpenssl() && "no openssl",
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-stomps-"));
  const { cert, key } = selfSignedCert();
  await writeFile(join(dir, "c.pem"), cert);
  await writeFile(join(dir, "k.pem"), key);
  const b = await startTestBroker({
    config: (c) => {
      c.tls.cert = join(dir, "c.pem");
      c.tls.key = join(dir, "k.pem");
      c.stomp.tlsPort = 0;
    },
  });
  try {
    const port = b.handle.ports.stomps!;
    assert.ok(port > 0);
    const socket = tlsConnect({ host: "127.0.0.1", port, ca: cert, servername: "localhost" });
    const frames: StompFrame[] = [];
    const decoder = new StompDecoder({ maxFrameSize: 1 << 20, maxHeaders: 100, maxHeaderLength: 10_000 });
    decoder.version = "1.2";
    socket.on("data", (c: Buffer) => decoder.push(c, (f) => frames.push(f)));
    await new Promise<void>((r, j) => {
      socket.once("secureConnect", () => r());
      socket.once("error", j);
    });
    socket.write(
      encodeFrame(
        "CONNECT",
        [
          ["accept-version", "1.2"],
          ["host", "/"],
        ],
        "1.2",
      ),
    );
    socket.write(
      encodeFrame(
        "SUBSCRIBE",
        [
          ["id", "1"],
          ["destination", "/topic/secure"],
        ],
        "1.2",
      ),
    );
    socket.write(encodeFrame("SEND", [["destination", "/topic/secure"]], "1.2", "over tls"));
    const until = Date.now() + 5000;
    while (!frames.some((f) => f.command === "MESSAGE") && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    const m = frames.find((f) => f.command === "MESSAGE");
    assert.equal(m?.body.toString(), "over tls");
    socket.destroy();
    const presence = b.handle.router.presence.list().filter((r) => r.protocol === "stomp");
    assert.ok(presence.length <= 1);
  } finally {
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("STOMP 1.2 §Value Encoding: MESSAGE headers escaped per version (1.0 raw, 1.1 without \\r, 1.2 all)", {
  timeout: 10_000,
}, async () => {
  const b = await startTestBroker();
  try {
    const subs: Record<string, RawStomp> = {};
    for (const v of ["1.0", "1.1", "1.2"] as const) {
      const { client } = await RawStomp.connect(b.stompPort, [], v);
      client.send("SUBSCRIBE", [
        ["id", `s:${v}`],
        ["destination", "/topic/esc"],
        ["receipt", "r"],
      ]);
      await client.waitReceipt("r");
      subs[v] = client;
    }
    const { client: pub } = await RawStomp.connect(b.stompPort);
    pub.send(
      "SEND",
      [
        ["destination", "/topic/esc"],
        ["k:ey", "a\\b\nc"],
      ],
      "x",
    );
    for (const v of ["1.1", "1.2"] as const) {
      const [m] = await subs[v]!.waitMessages(1);
      assert.equal(header(m!, "k:ey"), "a\\b\nc", v);
      assert.equal(header(m!, "subscription"), `s:${v}`);
    }
    // 1.0 has no escaping: the line break cannot be carried and becomes a space.
    const [m0] = await subs["1.0"]!.waitMessages(1);
    assert.equal(m0!.headers.find((h) => h[0].startsWith("k"))?.join("="), "k=ey:a\\b c");
    for (const c of Object.values(subs)) c.destroy();
    pub.destroy();
  } finally {
    await b.close();
  }
});
