/** SASL SCRAM-SHA-1/-256 against the users file's SCRAM entries; STARTTLS and direct TLS. */
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { FileAuth } from "../../../src/core/auth/file-auth.js";
import { scramEntries } from "../../../src/core/auth/scram.js";
import { hashPassword, UsersFile } from "../../../src/core/auth/users-file.js";
import { startTestBroker, type TestBroker } from "../../helpers/broker.js";
import { hasOpenssl, selfSignedCert } from "../../transports/helpers.js";
import { connectClient, OPEN, RawXmpp } from "./helpers.js";

async function scramAuth(): Promise<FileAuth> {
  const line = `sam:${await hashPassword("pencil")} ${scramEntries(Buffer.from("pencil"))}`;
  const file = UsersFile.parse(`# users\n${line}\nold:${await hashPassword("x")}\n`);
  assert.match(file.toString(), /^sam:\$scrypt\$.* \$scram-sha-1\$i=4096\$.* \$scram-sha-256\$i=4096\$/m);
  return new FileAuth({ users: file.users(), scram: file.scram(), allowAnonymous: false });
}

/** A SCRAM client exchange on a raw stream (RFC 5802 §3). */
async function rawScram(
  raw: RawXmpp,
  hash: "sha1" | "sha256",
  user: string,
  password: string,
): Promise<string> {
  const mech = hash === "sha1" ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
  const cnonce = randomBytes(12).toString("base64");
  const first = `n=${user},r=${cnonce}`;
  raw.clear();
  raw.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mech}'>${Buffer.from(`n,,${first}`).toString("base64")}</auth>`,
  );
  const [, ch] = (await raw.waitFor(
    /<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>([^<]+)<\/challenge>/,
  )) as RegExpMatchArray;
  const serverFirst = Buffer.from(ch!, "base64").toString();
  const attrs = new Map(serverFirst.split(",").map((p) => [p[0]!, p.slice(2)]));
  const salted = pbkdf2Sync(
    password,
    Buffer.from(attrs.get("s")!, "base64"),
    Number(attrs.get("i")),
    hash === "sha1" ? 20 : 32,
    hash,
  );
  const clientKey = createHmac(hash, salted).update("Client Key").digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.get("r")}`;
  const authMessage = `${first},${serverFirst},${withoutProof}`;
  const sig = createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!));
  raw.send(
    `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(`${withoutProof},p=${proof.toString("base64")}`).toString("base64")}</response>`,
  );
  const m = await raw.waitFor(
    /<(success|failure) xmlns='urn:ietf:params:xml:ns:xmpp-sasl'(?:\/>|>(.*?)<\/\1>)/,
  );
  if (m[1] === "failure") return "failure";
  const serverKey = createHmac(hash, salted).update("Server Key").digest();
  const expected = `v=${createHmac(hash, serverKey).update(authMessage).digest("base64")}`;
  assert.equal(Buffer.from(m[2]!, "base64").toString(), expected, "server signature (mutual authentication)");
  return "success";
}

describe("xmpp SCRAM", { timeout: 30_000 }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startTestBroker({ auth: await scramAuth() });
  });
  after(() => b.close());

  test("RFC 5802: SCRAM-SHA-1 with @xmpp/client", async () => {
    const c = await connectClient(b, { username: "sam", password: "pencil", mechanism: "SCRAM-SHA-1" });
    assert.equal(c.jid.split("/")[0], "sam@localhost");
    await c.stop();
  });

  for (const hash of ["sha1", "sha256"] as const) {
    test(`RFC 7677/5802: SCRAM-${hash.toUpperCase()} exchange, server signature, wrong password refused`, async () => {
      const raw = await RawXmpp.open(b.xmppPort);
      try {
        await raw.login();
        assert.match(
          raw.output,
          /<mechanism>SCRAM-SHA-256<\/mechanism><mechanism>SCRAM-SHA-1<\/mechanism><mechanism>PLAIN<\/mechanism>/,
        );
        assert.equal(await rawScram(raw, hash, "sam", "wrong"), "failure");
        assert.equal(await rawScram(raw, hash, "sam", "pencil"), "success");
      } finally {
        raw.close();
      }
    });
  }

  test("a user without SCRAM entries (an old users file) cannot use SCRAM but can use PLAIN", async () => {
    const raw = await RawXmpp.open(b.xmppPort);
    try {
      await raw.login();
      assert.equal(await rawScram(raw, "sha256", "old", "x"), "failure");
      raw.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0old\0x").toString("base64")}</auth>`,
      );
      await raw.waitFor(/<success/);
    } finally {
      raw.close();
    }
  });
});

describe("xmpp TLS", { timeout: 60_000 }, () => {
  let b: TestBroker | undefined;
  let dir: string;
  let cert: Buffer;
  before(async () => {
    if (!hasOpenssl()) return;
    const pair = selfSignedCert();
    cert = pair.cert;
    dir = mkdtempSync(join(tmpdir(), "sb-xmpp-tls-"));
    writeFileSync(join(dir, "c.pem"), pair.cert);
    writeFileSync(join(dir, "k.pem"), pair.key);
    b = await startTestBroker({
      xmpp: { tlsPort: 0 },
      config: (c) => {
        c.tls.cert = join(dir, "c.pem");
        c.tls.key = join(dir, "k.pem");
      },
    });
  });
  after(async () => {
    await b?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("RFC 6120 §5: STARTTLS is required with a certificate; SASL before it is refused; the stream restarts over TLS", async (t) => {
    if (!b) return t.skip("openssl not installed");
    const raw = await RawXmpp.open(b.xmppPort);
    try {
      await raw.login();
      assert.match(
        raw.output,
        /<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required\/><\/starttls><\/stream:features>/,
      );
      raw.send(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0u\0p").toString("base64")}</auth>`,
      );
      await raw.waitFor(/<encryption-required\/>/);
      raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      await raw.waitFor(/<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'\/>/);
      const secure = tlsConnect({ socket: raw.socketForTest, ca: cert, servername: "localhost" });
      let text = "";
      secure.on("data", (d: Buffer) => {
        text += d.toString();
      });
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", () => resolve());
        secure.once("error", reject);
      });
      secure.write(OPEN);
      const until = Date.now() + 5000;
      while (!/<\/stream:features>/.test(text) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      assert.match(text, /<mechanism>PLAIN<\/mechanism>/);
      assert.doesNotMatch(text, /starttls/);
      secure.destroy();
    } finally {
      raw.close();
    }
  });

  test("XEP-0368 direct TLS on the xmpps port", async (t) => {
    if (!b) return t.skip("openssl not installed");
    const port = b.handle.ports.xmpps!;
    const s = tlsConnect({ host: "127.0.0.1", port, ca: cert, servername: "localhost" });
    try {
      let text = "";
      s.on("data", (d: Buffer) => {
        text += d.toString();
      });
      await new Promise<void>((resolve, reject) => {
        s.once("secureConnect", () => resolve());
        s.once("error", reject);
      });
      s.write(OPEN);
      const until = Date.now() + 5000;
      while (!/<\/stream:features>/.test(text) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      assert.match(text, /<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>/);
      assert.doesNotMatch(text, /starttls/);
    } finally {
      s.destroy();
    }
  });
});
